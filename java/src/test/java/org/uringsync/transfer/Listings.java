package org.uringsync.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Test helper: a tree's entries, relative to its root, directories with a trailing slash, sorted. */
final class Listings {
    private Listings() {}

    static TreeSet<String> of(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            TreeSet<String> out = new TreeSet<>();
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p) + (Files.isDirectory(p) ? "/" : "")));
            return out;
        }
    }
}
