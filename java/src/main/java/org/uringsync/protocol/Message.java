package org.uringsync.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The wire messages of docs/PROTOCOL.md, validated on construction. Frame: {@code type u8 | length
 * u32 LE | payload}. FILE_DATA bodies are not messages here: they stream between file and socket.
 */
public sealed interface Message {
    int HELLO = 0x01, HELLO_OK = 0x02, HELLO_FAIL = 0x03, FILE_HDR = 0x10, FILE_DATA = 0x11, FILE_END = 0x12,
            ALL_DONE = 0x20, ERROR = 0xFF;

    /** The protocol version this implementation speaks. */
    int VERSION = 2;

    int type();

    /** HELLO: version, and (v2) the 32-byte proof in a 64-byte field; 66 bytes on the wire. */
    record Hello(int version, byte[] secret) implements Message {
        public Hello {
            if (version < 0 || version > 255) {
                throw new IllegalArgumentException("version out of range: " + version);
            }
            if (secret.length > 64) {
                throw new IllegalArgumentException("secret field holds at most 64 bytes: " + secret.length);
            }
            secret = secret.clone();
        }

        @Override
        public int type() {
            return HELLO;
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && h.version == version && Arrays.equals(h.secret, secret);
        }

        @Override
        public int hashCode() {
            return 31 * version + Arrays.hashCode(secret);
        }

        @Override
        public String toString() {
            return "Hello[version=" + version + ", secret=" + secret.length + " bytes]";
        }
    }

    /** HELLO_OK: the receiver's 32-byte proof that it knows the secret too. */
    record HelloOk(byte[] proof) implements Message {
        public HelloOk {
            if (proof.length != 32) {
                throw new IllegalArgumentException("HELLO_OK proof must be 32 bytes: " + proof.length);
            }
            proof = proof.clone();
        }

        @Override
        public int type() {
            return HELLO_OK;
        }

        @Override
        public byte[] proof() {
            return proof.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HelloOk h && Arrays.equals(h.proof, proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }
    }

    /** HELLO_FAIL: 1 wrong secret, 2 version mismatch. */
    record HelloFail(int reason) implements Message {
        public static final int WRONG_SECRET = 1, VERSION_MISMATCH = 2;

        public HelloFail {
            if (reason < 0 || reason > 255) {
                throw new IllegalArgumentException("reason out of range: " + reason);
            }
        }

        @Override
        public int type() {
            return HELLO_FAIL;
        }
    }

    /** FILE_HDR: size u64, mode u32, path_len u16, path bytes (relative, not necessarily UTF-8). */
    record FileHeader(long size, int mode, byte[] path) implements Message {
        public static final int MAX_PATH = 4096;

        public FileHeader {
            if (size < 0) {
                throw new IllegalArgumentException("size out of range: " + Long.toUnsignedString(size));
            }
            if (path.length > MAX_PATH) {
                throw new IllegalArgumentException("path longer than " + MAX_PATH + " bytes: " + path.length);
            }
            path = path.clone();
        }

        @Override
        public int type() {
            return FILE_HDR;
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        public String pathText() {
            return new String(path, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileHeader h && h.size == size && h.mode == mode && Arrays.equals(h.path, path);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(size) * 31 + mode * 17 + Arrays.hashCode(path);
        }

        @Override
        public String toString() {
            return "FileHeader[size=" + size + ", mode=0" + Integer.toOctalString(mode) + ", path=" + pathText() + "]";
        }
    }

    /** FILE_END: no payload. */
    record FileEnd() implements Message {
        @Override
        public int type() {
            return FILE_END;
        }
    }

    /** ALL_DONE: no payload. From the sender: nothing more follows; from the receiver: all files are in place. */
    record AllDone() implements Message {
        @Override
        public int type() {
            return ALL_DONE;
        }
    }

    /** ERROR: code u8, msg_len u16, message (UTF-8). */
    record Error(int code, String text) implements Message {
        public static final int PROTOCOL = 1, PATH = 2, IO = 3, INTERNAL = 4;

        public Error {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("code out of range: " + code);
            }
            if (text.getBytes(StandardCharsets.UTF_8).length > 65535) {
                throw new IllegalArgumentException("error text longer than 65535 bytes");
            }
        }

        @Override
        public int type() {
            return ERROR;
        }
    }
}
