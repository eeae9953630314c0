/**
 * uring-sync: fast, secure file-tree copies (io_uring) and network transfers (TLS 1.3, kernel TLS
 * where the kernel has it) for Linux.
 *
 * <p>The API is the package {@code org.uringsync}: {@link org.uringsync.LocalCopy},
 * {@link org.uringsync.Sender}, {@link org.uringsync.Receiver} and what they return and throw.
 * Every other package is internal (the C core's bindings, the wire protocol, the transfer engines,
 * the command line) and not exported; on the class path they are visible but not part of the API,
 * and they change without notice.
 */
module org.uringsync {
    exports org.uringsync;
}
