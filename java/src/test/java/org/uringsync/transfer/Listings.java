package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Test helper: a tree's entries, relative to its root, directories with a trailing slash, sorted; hard-link groups. */
final class Listings {
    private Listings() {}

    /** Each group's names are one inode in {@code dst} (link count: the group's size), with the bytes of {@code src}'s. */
    static void assertHardLinked(Path src, Path dst, List<List<String>> groups) throws IOException {
        for (List<String> group : groups) {
            Object ino = Files.getAttribute(dst.resolve(group.get(0)), "unix:ino");
            for (String name : group) {
                assertEquals(ino, Files.getAttribute(dst.resolve(name), "unix:ino"), name);
                assertEquals(group.size(), Files.getAttribute(dst.resolve(name), "unix:nlink"), name);
                assertEquals(-1, Files.mismatch(src.resolve(name), dst.resolve(name)), name);
            }
        }
    }

    static TreeSet<String> of(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            TreeSet<String> out = new TreeSet<>();
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p) + (Files.isDirectory(p) ? "/" : "")));
            return out;
        }
    }
}
