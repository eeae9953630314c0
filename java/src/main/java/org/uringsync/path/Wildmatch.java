package org.uringsync.path;

/**
 * rsync's wildcard matching on path bytes: {@code *} matches any run of bytes but {@code /},
 * {@code **} any run including {@code /}, {@code ?} one byte but {@code /}, {@code [...]} one byte of
 * a class ({@code [a-z]}, negated by a leading {@code !} or {@code ^}; {@code /} never matches), and
 * {@code \} makes the next byte literal. The whole text must match.
 */
public final class Wildmatch {
    private Wildmatch() {}

    /** @return true when {@code pattern} matches all of {@code text} */
    public static boolean matches(byte[] pattern, byte[] text) {
        return match(pattern, 0, text, 0, text.length) == MATCH;
    }

    /** @return true when {@code pattern} matches {@code text[from, to)} */
    static boolean matches(byte[] pattern, byte[] text, int from, int to) {
        return match(pattern, 0, text, from, to) == MATCH;
    }

    // As rsync's wildmatch: besides match and no match, two ways to give up early that keep the
    // search polynomial: the text ran out (no later start of a star can help), or a single star met a
    // '/' (only an enclosing double star may go on past it).
    private static final int NO_MATCH = 0, MATCH = 1, ABORT_ALL = -1, ABORT_TO_STARSTAR = -2;

    private static int match(byte[] p, int pi, byte[] t, int ti, int end) {
        for (; pi < p.length; pi++, ti++) {
            byte c = p[pi];
            if (ti >= end && c != '*') {
                return ABORT_ALL;
            }
            if (c == '*') {
                boolean doubled = pi + 1 < p.length && p[pi + 1] == '*';
                while (pi + 1 < p.length && p[pi + 1] == '*') {
                    pi++;
                }
                if (pi + 1 == p.length) { // a trailing star: the rest, without '/' unless doubled
                    return doubled || indexOfSlash(t, ti, end) < 0 ? MATCH : NO_MATCH;
                }
                for (; ti < end; ti++) {
                    int m = match(p, pi + 1, t, ti, end);
                    if (m != NO_MATCH) {
                        if (!doubled || m != ABORT_TO_STARSTAR) {
                            return m;
                        }
                    } else if (!doubled && t[ti] == '/') {
                        return ABORT_TO_STARSTAR;
                    }
                }
                return ABORT_ALL;
            }
            byte b = t[ti];
            if (c == '?') {
                if (b == '/') {
                    return NO_MATCH;
                }
            } else if (c == '[') {
                int close = classEnd(p, pi);
                if (close < 0) { // no closing bracket: a literal '['
                    if (b != '[') {
                        return NO_MATCH;
                    }
                } else {
                    if (b == '/' || !inClass(p, pi + 1, close, b)) {
                        return NO_MATCH;
                    }
                    pi = close;
                }
            } else {
                if (c == '\\' && pi + 1 < p.length) {
                    c = p[++pi];
                }
                if (b != c) {
                    return NO_MATCH;
                }
            }
        }
        return ti == end ? MATCH : NO_MATCH;
    }

    private static int indexOfSlash(byte[] t, int from, int to) {
        for (int i = from; i < to; i++) {
            if (t[i] == '/') {
                return i;
            }
        }
        return -1;
    }

    /** @return the index of the ']' closing the class opened at {@code open}, or -1 */
    private static int classEnd(byte[] p, int open) {
        int i = open + 1;
        if (i < p.length && (p[i] == '!' || p[i] == '^')) {
            i++;
        }
        if (i < p.length && p[i] == ']') { // a leading ']' is a member
            i++;
        }
        for (; i < p.length; i++) {
            if (p[i] == '\\' && i + 1 < p.length) {
                i++;
            } else if (p[i] == ']') {
                return i;
            }
        }
        return -1;
    }

    private static boolean inClass(byte[] p, int from, int close, byte b) {
        boolean negated = p[from] == '!' || p[from] == '^';
        int i = negated ? from + 1 : from;
        boolean found = false;
        boolean first = true;
        while (i < close) {
            int lo = p[i] & 0xff;
            if (p[i] == '\\' && i + 1 < close) {
                lo = p[++i] & 0xff;
            } else if (p[i] == ']' && !first) {
                break;
            }
            first = false;
            int hi = lo;
            if (i + 2 < close && p[i + 1] == '-') {
                hi = p[i + 2] & 0xff;
                if (p[i + 2] == '\\' && i + 3 < close) {
                    hi = p[i + 3] & 0xff;
                    i++;
                }
                i += 2;
            }
            int v = b & 0xff;
            if (v >= lo && v <= hi) {
                found = true;
            }
            i++;
        }
        return found != negated;
    }
}
