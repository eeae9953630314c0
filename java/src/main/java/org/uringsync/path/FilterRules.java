package org.uringsync.path;

import java.util.ArrayList;
import java.util.List;

/**
 * Include and exclude rules as rsync applies them for the common cases, on paths relative to the
 * transfer root ({@code a/b/c}, no leading slash). The first rule that matches decides; an entry no
 * rule matches is included. A pattern ending in {@code /} matches directories only; one starting
 * with {@code /} is anchored at the transfer root; one with another {@code /} or a {@code **} is
 * matched against the whole path (unanchored: against any trailing run of whole components), any
 * other against the last component alone; an unanchored leading {@code **}{@code /} also matches no
 * directory at all. {@code dir/***} matches {@code dir} and everything in it.
 * Wildcards: see {@link Wildmatch}. An excluded directory is not entered, so nothing in it is read.
 * Immutable.
 */
public final class FilterRules {
    /** No rules: everything is included. */
    public static final FilterRules NONE = new FilterRules(List.of(), List.of());

    /** topToo: the pattern without a leading double-star and slash, which rsync also lets match at the top. */
    private record Rule(boolean include, byte[] pattern, byte[] topToo, boolean dirOnly, boolean anchored,
            boolean wholePath, boolean andBelow) {}

    /** A rule as it was given: include or exclude, and its pattern. */
    public record Given(boolean include, byte[] pattern) {}

    private final List<Rule> rules;
    private final List<Given> given;

    private FilterRules(List<Rule> rules, List<Given> given) {
        this.rules = rules;
        this.given = given;
    }

    /** @return the rules as given, in order (to hand them to a receiver) */
    public List<Given> given() {
        return given;
    }

    /** @return these rules and then {@code pattern}, as an exclude ({@code include} false) or include rule */
    public FilterRules and(boolean include, byte[] pattern) {
        if (pattern.length == 0) {
            throw new IllegalArgumentException("empty " + (include ? "include" : "exclude") + " pattern");
        }
        int from = 0, to = pattern.length;
        boolean dirOnly = false, anchored = false, andBelow = false;
        if (endsWith(pattern, to, "/***") && to > 4) {
            andBelow = true;
            to -= 4;
        }
        while (to > from + 1 && pattern[to - 1] == '/') {
            dirOnly = true;
            to--;
        }
        if (pattern[from] == '/' && to > from + 1) {
            anchored = true;
            from++;
        }
        byte[] p = java.util.Arrays.copyOfRange(pattern, from, to);
        boolean wholePath = anchored || andBelow || indexOf(p, (byte) '/') >= 0 || contains(p, "**");
        List<Rule> next = new ArrayList<>(rules);
        byte[] topToo = !anchored && p.length > 3 && p[0] == '*' && p[1] == '*' && p[2] == '/'
                ? java.util.Arrays.copyOfRange(p, 3, p.length) : null;
        next.add(new Rule(include, p, topToo, dirOnly && !andBelow, anchored, wholePath, andBelow));
        List<Given> g = new ArrayList<>(given);
        g.add(new Given(include, pattern.clone()));
        return new FilterRules(List.copyOf(next), List.copyOf(g));
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** @return true when the entry at {@code path} (relative to the transfer root) is excluded */
    public boolean excludes(byte[] path, boolean directory) {
        for (Rule r : rules) {
            if (matches(r, path, directory)) {
                return !r.include();
            }
        }
        return false;
    }

    private static boolean matches(Rule r, byte[] path, boolean directory) {
        if (r.andBelow()) { // dir/***: dir itself (a directory) or anything beneath it
            for (int slash = indexOf(path, (byte) '/', 0); slash >= 0; slash = indexOf(path, (byte) '/', slash + 1)) {
                if (matchesPath(r, path, slash)) {
                    return true;
                }
            }
            return directory && matchesPath(r, path, path.length);
        }
        if (r.dirOnly() && !directory) {
            return false;
        }
        if (!r.wholePath()) {
            int slash = lastIndexOf(path, (byte) '/');
            return Wildmatch.matches(r.pattern(), path, slash + 1, path.length);
        }
        return matchesPath(r, path, path.length);
    }

    /** Whole-path rules against {@code path[0, end)}: anchored at 0, or starting at any component. */
    private static boolean matchesPath(Rule r, byte[] path, int end) {
        if (Wildmatch.matches(r.pattern(), path, 0, end)) {
            return true;
        }
        if (r.topToo() != null && Wildmatch.matches(r.topToo(), path, 0, end)) {
            return true;
        }
        if (r.anchored()) {
            return false;
        }
        for (int i = 0; i < end; i++) {
            if (path[i] == '/' && Wildmatch.matches(r.pattern(), path, i + 1, end)) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(byte[] b, byte v) {
        return indexOf(b, v, 0);
    }

    private static int indexOf(byte[] b, byte v, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(byte[] b, byte v) {
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    private static boolean contains(byte[] b, String s) {
        outer:
        for (int i = 0; i + s.length() <= b.length; i++) {
            for (int k = 0; k < s.length(); k++) {
                if (b[i + k] != s.charAt(k)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean endsWith(byte[] b, int end, String s) {
        if (end < s.length()) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            if (b[end - s.length() + k] != s.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
