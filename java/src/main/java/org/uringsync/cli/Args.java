package org.uringsync.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small GNU-style option parser: {@code -j 4}, {@code -j4}, {@code --jobs 4}, {@code --jobs=4},
 * bundled flags {@code -pv}, and {@code --} to end options. Hand-written instead of picocli because
 * picocli's classes (Java 5 bytecode) cannot be class-data shared and its start-up cost 0.15 s of a
 * 0.25 s launch on this machine.
 */
final class Args {
    /** One option: its names (short and long, with dashes), whether it takes a value, and its help text. */
    record Option(String shortName, String longName, String valueLabel, String help) {
        boolean takesValue() {
            return valueLabel != null;
        }

        String key() {
            return longName != null ? longName : shortName;
        }
    }

    /** Thrown for bad usage; the message is one line. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, Option> byName = new HashMap<>();
    private final List<Option> options = new ArrayList<>();

    Args(List<Option> options) {
        for (Option o : options) {
            this.options.add(o);
            if (o.shortName() != null) {
                byName.put(o.shortName(), o);
            }
            if (o.longName() != null) {
                byName.put(o.longName(), o);
            }
        }
    }

    /** One option as given, in command-line order. */
    record Given(String key, String value) {}

    /**
     * The parse result: option values by long name (flags map to {@code ""}; the last one given wins),
     * every option as given in order (for repeatable ones), and positionals in order.
     */
    record Parsed(Map<String, String> values, List<Given> given, List<String> positionals) {
        boolean has(String key) {
            return values.containsKey(key);
        }

        String get(String key) {
            return values.get(key);
        }
    }

    Parsed parse(String[] args) throws UsageException {
        List<Given> given = new ArrayList<>();
        Map<String, String> values = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                positionals.addAll(List.of(args).subList(i + 1, args.length));
                break;
            }
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                Option o = option(name);
                if (o.takesValue()) {
                    if (eq >= 0) {
                        put(values, given, o.key(), a.substring(eq + 1));
                    } else if (i + 1 < args.length) {
                        put(values, given, o.key(), args[++i]);
                    } else {
                        throw new UsageException("option " + name + " needs a value (" + o.valueLabel() + ")");
                    }
                } else if (eq >= 0) {
                    throw new UsageException("option " + name + " takes no value");
                } else {
                    put(values, given, o.key(), "");
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                for (int k = 1; k < a.length(); k++) {
                    Option o = option("-" + a.charAt(k));
                    if (!o.takesValue()) {
                        put(values, given, o.key(), "");
                        continue;
                    }
                    if (k + 1 < a.length()) {
                        put(values, given, o.key(), a.substring(k + 1));
                    } else if (i + 1 < args.length) {
                        put(values, given, o.key(), args[++i]);
                    } else {
                        throw new UsageException("option -" + a.charAt(k) + " needs a value (" + o.valueLabel() + ")");
                    }
                    break;
                }
            } else {
                positionals.add(a);
            }
        }
        return new Parsed(values, List.copyOf(given), positionals);
    }

    private static void put(Map<String, String> values, List<Given> given, String key, String value) {
        values.put(key, value);
        given.add(new Given(key, value));
    }

    private Option option(String name) throws UsageException {
        Option o = byName.get(name);
        if (o == null) {
            throw new UsageException("unknown option: " + name);
        }
        return o;
    }

    /** The options part of a help text, one aligned line per option. */
    String optionHelp() {
        StringBuilder b = new StringBuilder();
        for (Option o : options) {
            String names = (o.shortName() != null ? o.shortName() + ", " : "    ")
                    + (o.longName() != null ? o.longName() : "") + (o.takesValue() ? " <" + o.valueLabel() + ">" : "");
            b.append(String.format("    %-26s %s%n", names, o.help()));
        }
        return b.toString();
    }

    /** Parses an int option value, naming the option on failure. */
    static int intValue(Parsed p, String key, int min, int max) throws UsageException {
        String v = p.get(key);
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("option " + key + " must be a whole number in " + min + ".." + max + ": '" + v + "'");
        }
    }
}
