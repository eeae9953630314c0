package org.uringsync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.path.FilterRules;

/**
 * Which entries of the source a copy or send leaves out, with rsync's rules for the common cases:
 * rules in the order given, the first that matches an entry decides, an entry no rule matches is
 * included. Patterns: {@code *} (not across {@code /}), {@code **} (across), {@code ?}, character
 * classes {@code [a-z]} / {@code [!a-z]}; a trailing {@code /} matches directories only; a leading
 * {@code /} anchors at the transfer root (SOURCE itself); a pattern with no other {@code /} and no
 * {@code **} is matched against the entry's name, any other against its path (at any depth unless
 * anchored); {@code dir/***} matches {@code dir} and all it contains. An excluded directory is not
 * entered, and excluded files are never opened.
 *
 * <pre>{@code
 * Filter f = Filter.none().include("keep.log").exclude("*.log").exclude("/build/");
 * }</pre>
 *
 * Immutable: each call returns a new filter with the rule appended.
 */
public final class Filter {
    private static final Filter NONE = new Filter(FilterRules.NONE);

    private final FilterRules rules;

    private Filter(FilterRules rules) {
        this.rules = rules;
    }

    /** @return the filter that includes everything */
    public static Filter none() {
        return NONE;
    }

    /** @return this filter with {@code pattern} appended as an exclude rule */
    public Filter exclude(String pattern) {
        return new Filter(rules.and(false, bytes(pattern)));
    }

    /** @return this filter with {@code pattern} appended as an include rule */
    public Filter include(String pattern) {
        return new Filter(rules.and(true, bytes(pattern)));
    }

    /** @return this filter with each pattern of {@code file} (one per line) appended as an exclude rule */
    public Filter excludeFrom(Path file) throws IOException {
        return from(file, false);
    }

    /** @return this filter with each pattern of {@code file} (one per line) appended as an include rule */
    public Filter includeFrom(Path file) throws IOException {
        return from(file, true);
    }

    /** Lines of a pattern file: blank ones and ones starting with {@code #} or {@code ;} are skipped. */
    private Filter from(Path file, boolean include) throws IOException {
        FilterRules r = rules;
        for (String line : Files.readAllLines(file, PathBytes.charset())) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.isBlank() || l.startsWith("#") || l.startsWith(";")) {
                continue;
            }
            r = r.and(include, bytes(l));
        }
        return new Filter(r);
    }

    /** @return true when an entry at {@code relativePath} (from the transfer root, {@code /}-separated) is left out */
    public boolean excludes(String relativePath, boolean directory) {
        return rules.excludes(bytes(relativePath), directory);
    }

    /** The rules, for the walk. */
    FilterRules rules() {
        return rules;
    }

    private static byte[] bytes(String pattern) {
        return pattern.getBytes(PathBytes.charset());
    }
}
