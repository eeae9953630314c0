package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.nativeio.NativeTestSupport.sh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.nativeio.NativeTestSupport;

class LocalCopyTest {
    @TempDir
    Path tmp;
    Path src;
    Path dst;

    @BeforeEach
    void tree() throws Exception {
        NativeTestSupport.assumeRing();
        src = Files.createDirectory(tmp.resolve("src"));
        dst = tmp.resolve("dst");
        sh(src, String.join("\n",
                "set -e",
                "mkdir -p a/b/c empty 'sp ace' \"$(printf 'bad\\377dir')\"",
                "touch zero a/zero 'sp ace/f i l e' \"$(printf 'new\\nline')\" \"$(printf 'bad\\377dir/bad\\376file')\"",
                "head -c 300000 /dev/urandom > a/b/c/big",
                "for i in $(seq 1 300); do printf \"$i\" > a/b/small$i; done",
                "printf '#!/bin/sh\\n' > run.sh; chmod 0755 run.sh; printf s > secret; chmod 0600 secret",
                "ln -s a/b/c/big rel-link; ln -s /etc/hostname abs-link; ln -s missing dangling",
                "ln -s .. a/up",
                "mkdir ro; printf r > ro/f; chmod 0555 ro",
                "touch -d '2001-02-03 04:05:06.789' a/b/small1 a/b a 'sp ace'"));
    }

    /** Names, types, modes, sizes (not of directories) and link targets of a tree, one entry per line. */
    static String listing(Path root, boolean times) throws Exception {
        String t = times ? "|%T@" : "";
        return sh(root, "find . \\( -type d -printf '%P|d|%m" + t + "\\0' \\) -o -printf '%P|%y|%m|%s|%l" + t
                + "\\0' | sort -z | tr '\\0' '\\n'");
    }

    @Test
    void copiesTheTreeWithNamesModesAndLinksIntact() throws Exception {
        CopyResult r = LocalCopy.builder().jobs(2).queueDepth(8).chunkSize(64 * 1024).build().copy(src, dst);
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(309, r.files());
        assertEquals(4, r.symlinks());
        assertEquals(8, r.directories());
        assertEquals(listing(src, false), listing(dst, false));
        sh(tmp, "diff -r --no-dereference src dst");
        assertEquals(Path.of("/etc/hostname"), Files.readSymbolicLink(dst.resolve("abs-link")));
    }

    @Test
    void preserveKeepsModificationTimesOfFilesDirectoriesAndLinks() throws Exception {
        CopyResult r = LocalCopy.builder().preserve(true).build().copy(src, dst);
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(listing(src, true), listing(dst, true));
    }

    @Test
    void withoutPreserveTimesAreNew() throws Exception {
        LocalCopy.builder().build().copy(src, dst);
        assertFalse(listing(src, true).equals(listing(dst, true)));
    }

    @Test
    void aSecondRunReplacesChangedFilesAndKeepsOthers() throws Exception {
        LocalCopy copy = LocalCopy.builder().build();
        copy.copy(src, dst);
        Files.writeString(src.resolve("zero"), "now with content");
        Files.writeString(dst.resolve("only-in-dest"), "kept");
        CopyResult r = copy.copy(src, dst);
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals("now with content", Files.readString(dst.resolve("zero")));
        assertEquals("kept", Files.readString(dst.resolve("only-in-dest")));
        sh(tmp, "test -z \"$(find dst -name '*.usync-*')\"");
    }

    @Test
    void aSingleFileGoesIntoADirectoryOrToANewName() throws Exception {
        Files.createDirectory(dst);
        CopyResult r = LocalCopy.builder().build().copy(src.resolve("run.sh"), dst);
        assertEquals(1, r.files());
        assertEquals("#!/bin/sh\n", Files.readString(dst.resolve("run.sh")));
        List<String> heard = Collections.synchronizedList(new ArrayList<>());
        LocalCopy.builder().listener(new CopyListener() {
            @Override
            public void copied(String path, long bytes) {
                heard.add(path + " " + bytes);
            }
        }).build().copy(src.resolve("run.sh"), dst.resolve("renamed"));
        assertTrue(Files.isExecutable(dst.resolve("renamed")));
        assertEquals(List.of("renamed 10"), heard, "the listener hears the file's name in the destination");
    }

    @Test
    void aSymlinkedSourceIsFollowedWhetherItPointsAtAFileOrADirectory() throws Exception {
        Files.createSymbolicLink(tmp.resolve("file-link"), src.resolve("run.sh"));
        Files.createSymbolicLink(tmp.resolve("dir-link"), src);
        Files.createDirectory(dst);
        CopyResult r = LocalCopy.builder().build().copy(tmp.resolve("file-link"), dst.resolve("copied"));
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals("#!/bin/sh\n", Files.readString(dst.resolve("copied")));
        assertFalse(Files.isSymbolicLink(dst.resolve("copied")));
        r = LocalCopy.builder().build().copy(tmp.resolve("dir-link"), tmp.resolve("tree"));
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(listing(src, false), listing(tmp.resolve("tree"), false));
    }

    @Test
    void aDanglingSymlinkSourceIsOneClearError() throws Exception {
        Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));
        IOException e = assertThrows(IOException.class, () -> LocalCopy.builder().build().copy(tmp.resolve("dangling"), dst));
        assertEquals("stat " + tmp.resolve("dangling") + ": No such file or directory (ENOENT)", e.getMessage());
    }

    @Test
    void aFailedEntryIsReportedAndTheRestIsCopied() throws Exception {
        Files.createDirectories(dst.resolve("run.sh/in-the-way"));
        List<String> failed = Collections.synchronizedList(new ArrayList<>());
        CopyResult r = LocalCopy.builder().listener(new CopyListener() {
            @Override
            public void failed(String path, IOException cause) {
                failed.add(path + " -> " + cause.getMessage());
            }
        }).build().copy(src, dst);
        assertEquals(1, r.failures().size());
        assertEquals(List.of("run.sh -> renameat " + dst.resolve("run.sh") + ": Is a directory (EISDIR)"), failed);
        assertEquals(308, r.files());
        assertEquals("s", Files.readString(dst.resolve("secret")));
        sh(tmp, "test -z \"$(find dst -name '*.usync-*')\"");
    }

    @Test
    void failFastStopsAfterTheFirstFailure() throws Exception {
        // 6 directories of 300 files; in the destination, one file of each is a non-empty directory
        // already, so that one entry per directory fails (renaming a file over it is refused).
        Path big = Files.createDirectory(tmp.resolve("big"));
        sh(big, "for d in 1 2 3 4 5 6; do mkdir d$d; for f in $(seq 1 300); do printf x > d$d/f$f; done; done");
        sh(tmp, "for d in 1 2 3 4 5 6; do mkdir -p out-all/d$d/f7/x out-fast/d$d/f7/x; done");
        CopyResult all = LocalCopy.builder().jobs(1).queueDepth(4).build().copy(big, tmp.resolve("out-all"));
        assertEquals(6, all.failures().size(), all.failures().toString());
        assertEquals(6 * 299, all.files());

        CopyResult fast = LocalCopy.builder().jobs(1).queueDepth(4).failFast(true).build().copy(big, tmp.resolve("out-fast"));
        assertEquals(1, fast.failures().size(), fast.failures().toString());
        assertTrue(fast.failures().get(0).getMessage().matches("renameat .*/d\\d/f7: .*"), fast.failures().toString());
        // the first failure comes within the first directory walked (300 files, units of 64); queued
        // units are skipped after it and the walk stops: far fewer files than the 1794 of the full run
        assertTrue(fast.files() < 400, "fail-fast stopped after the first failure: " + fast.files() + " files copied");
    }

    /** A listener that throws used to kill the workers, and the walk then waited forever on a full queue. */
    @Test
    void aThrowingListenerEndsTheCopyWithAReportedFailure() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("big"));
        sh(big, "for d in $(seq 1 20); do mkdir d$d; for f in $(seq 1 100); do printf x > d$d/f$f; done; done");
        CopyResult r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> LocalCopy.builder().jobs(2)
                .listener(new org.uringsync.CopyListener() {
                    @Override
                    public void copied(String path, long bytes) {
                        throw new IllegalStateException("listener broke");
                    }
                }).build().copy(big, tmp.resolve("out")));
        assertFalse(r.succeeded());
        assertTrue(r.failures().stream().anyMatch(e -> e.getMessage().equals(
                "copy stopped: java.lang.IllegalStateException: listener broke")), r.failures().toString());
    }

    @Test
    void aCancelledCopyReturnsWithWhatWasDone() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("big"));
        sh(big, "for d in $(seq 1 20); do mkdir d$d; for f in $(seq 1 100); do printf x > d$d/f$f; done; done");
        org.uringsync.Cancellation cancel = new org.uringsync.Cancellation();
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        CopyResult r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> LocalCopy.builder().jobs(1)
                .queueDepth(4).cancellation(cancel).listener(new org.uringsync.CopyListener() {
                    @Override
                    public void copied(String path, long bytes) {
                        if (seen.incrementAndGet() == 100) {
                            cancel.cancel();
                        }
                    }
                }).build().copy(big, tmp.resolve("out")));
        assertFalse(r.succeeded());
        assertTrue(r.files() >= 100 && r.files() < 2000, r.files() + " files");
        IOException last = r.failures().get(r.failures().size() - 1);
        assertTrue(last instanceof java.io.InterruptedIOException, last.toString());
        assertEquals("copy cancelled after " + r.files() + " files", last.getMessage());
    }

    @Test
    void interruptingTheCallerStopsTheCopyAndKeepsTheInterrupt() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("big"));
        sh(big, "for d in $(seq 1 20); do mkdir d$d; for f in $(seq 1 100); do printf x > d$d/f$f; done; done");
        Thread caller = Thread.currentThread();
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        try {
            CopyResult r = LocalCopy.builder().jobs(1).queueDepth(4).listener(new org.uringsync.CopyListener() {
                @Override
                public void copied(String path, long bytes) {
                    if (seen.incrementAndGet() == 100) {
                        caller.interrupt();
                    }
                }
            }).build().copy(big, tmp.resolve("out"));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
            assertTrue(r.files() >= 100 && r.files() < 2000, r.files() + " files");
            assertEquals("copy interrupted after " + r.files() + " files",
                    r.failures().get(r.failures().size() - 1).getMessage());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void refusesADestinationInsideTheSource() {
        IOException e = assertThrows(IOException.class, () -> LocalCopy.builder().build().copy(src, src.resolve("a/copy")));
        assertEquals("cannot copy " + src + " into " + src.resolve("a/copy") + ": the destination is inside the source",
                e.getMessage());
        assertFalse(Files.exists(src.resolve("a/copy")));
    }

    @Test
    void aMissingSourceIsOneClearError() {
        Path missing = tmp.resolve("missing");
        IOException e = assertThrows(IOException.class, () -> LocalCopy.builder().build().copy(missing, dst));
        assertEquals("stat " + missing + ": No such file or directory (ENOENT)", e.getMessage());
    }

    @Test
    void aDestinationWhoseParentIsMissingIsOneClearError() {
        Path deep = tmp.resolve("no/such/parent");
        IOException e = assertThrows(IOException.class, () -> LocalCopy.builder().build().copy(src, deep));
        assertEquals("mkdir " + deep + ": No such file or directory (ENOENT)", e.getMessage());
    }

    /**
     * Someone who can write inside DEST swaps a directory the copy made for a symlink to elsewhere,
     * while the copy runs (here: from the listener, between batches). Neither the files still to come
     * nor the directory's mode and times may land outside DEST: they fail (ELOOP) instead.
     */
    @Test
    void aDirectorySwappedForASymlinkMidCopyRedirectsNothing() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("big"));
        sh(big, "for d in 1 2; do mkdir d$d; chmod 0700 d$d; for f in $(seq 1 100); do printf x > d$d/f$f; done; done;"
                + " touch -d '2001-01-01' d1 d2");
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        sh(outside, "chmod 0755 .; touch -d '2020-02-02' .");
        String before = sh(outside, "stat -c '%a %Y' .");
        Path out = tmp.resolve("out");
        java.util.concurrent.atomic.AtomicReference<String> swapped = new java.util.concurrent.atomic.AtomicReference<>();
        CopyResult r = LocalCopy.builder().jobs(1).queueDepth(4).preserve(true).listener(new CopyListener() {
            @Override
            public void copied(String path, long bytes) {
                if (swapped.get() == null) { // the first batch is done: the other directory's files are still to come
                    String other = path.startsWith("d1/") ? "d2" : "d1";
                    swapped.set(other);
                    try {
                        long end = System.nanoTime() + 10_000_000_000L; // the walk may not have made it yet
                        while (!Files.isDirectory(out.resolve(other)) && System.nanoTime() < end) {
                            Thread.sleep(1);
                        }
                        Files.move(out.resolve(other), out.resolve(other + ".moved"));
                        Files.createSymbolicLink(out.resolve(other), outside);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }).build().copy(big, out);
        try (var s = Files.list(outside)) {
            assertEquals(List.of(), s.toList(), "nothing written outside DEST");
        }
        assertEquals(before, sh(outside, "stat -c '%a %Y' ."), "mode and times outside DEST untouched");
        assertFalse(r.succeeded());
        String other = swapped.get();
        java.util.Set<String> messages = new java.util.TreeSet<>();
        r.failures().forEach(e -> messages.add(e.getMessage()));
        assertEquals(java.util.Set.of("openat2 " + out.resolve(other) + ": Too many levels of symbolic links (ELOOP)", // its files
                "openat " + out.resolve(other) + ": Not a directory (ENOTDIR)"), // its mode and times
                messages);
    }
}
