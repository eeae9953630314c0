# Cross-compiling the C core for linux-aarch64 on an x86_64 Debian/Ubuntu host: Debian's cross
# compiler (gcc-aarch64-linux-gnu) against the arm64 liburing-dev and libssl-dev of Debian multiarch
# (dpkg --add-architecture arm64; scripts/prereqs.sh does both).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
find_program(USYNC_CROSS_CC aarch64-linux-gnu-gcc)
if(NOT USYNC_CROSS_CC)
  message(FATAL_ERROR "aarch64-linux-gnu-gcc not found: bash scripts/prereqs.sh installs the cross toolchain "
    "(or build the host's library alone with mvn -Dnative.cross.skip)")
endif()
set(CMAKE_C_COMPILER "${USYNC_CROSS_CC}")
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries and headers from the arm64 multiarch directories only, never the host's; programs (cmake's
# helpers) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/lib/aarch64-linux-gnu /usr/include/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
