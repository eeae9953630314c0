package org.uringsync.cli;

import java.io.IOException;
import org.uringsync.CopyResult;
import org.uringsync.nativeio.NativeIoException;

/**
 * {@code --stats json}: what a run did as one JSON object, printed alone on the last line of
 * standard output. The field list is the README's ("Machine-readable results").
 */
final class Stats {
    private Stats() {}

    static String json(CopyResult r, boolean dryRun) {
        StringBuilder b = new StringBuilder(256 + 64 * Math.min(r.failures().size(), 1000)).append('{');
        number(b, "files_total", r.files() + r.unchanged() + r.failures().size());
        number(b, "files_sent", r.files());
        number(b, "files_skipped", r.unchanged() + r.skipped());
        number(b, "files_deleted", r.deleted());
        number(b, "files_failed", r.failures().size());
        number(b, "bytes_total", r.bytesTotal());
        number(b, "bytes_sent", r.bytes());
        number(b, "bytes_matched", 0); // no delta transfer: nothing is rebuilt from the destination's old copy
        b.append("\"seconds\":").append(org.uringsync.Sizes.fixed(r.duration().toNanos() / 1e9, 3)).append(',');
        string(b, "tls_path", r.tlsPath());
        string(b, "tls_cipher", r.tlsCipher());
        b.append("\"protocol\":").append(r.protocol() == 0 ? "null" : Integer.toString(r.protocol())).append(',');
        number(b, "directories", r.directories());
        number(b, "symlinks", r.symlinks());
        b.append("\"dry_run\":").append(dryRun).append(',');
        b.append("\"errors\":[");
        for (int i = 0; i < r.failures().size(); i++) {
            IOException e = r.failures().get(i);
            b.append(i == 0 ? "{" : ",{");
            string(b, "path", e instanceof NativeIoException n ? n.path() : null);
            b.append("\"error\":");
            quote(b, e.getMessage() == null ? e.toString() : e.getMessage());
            b.append('}');
        }
        return b.append("]}").toString();
    }

    private static void number(StringBuilder b, String key, long value) {
        b.append('"').append(key).append("\":").append(value).append(',');
    }

    private static void string(StringBuilder b, String key, String value) {
        b.append('"').append(key).append("\":");
        if (value == null) {
            b.append("null");
        } else {
            quote(b, value);
        }
        b.append(',');
    }

    /** A JSON string: quotes, backslashes and control characters escaped (names arrive as shown, any bytes escaped there). */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) && !validPair(s, i)) {
                        String h = Integer.toHexString(c);
                        b.append("\\u").append("0000", h.length(), 4).append(h);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        return Character.isHighSurrogate(c) ? i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
