package org.uringsync;

import java.time.Duration;

/**
 * Where a copy or send stands, as a {@link ProgressListener} hears it.
 *
 * <p>The totals are what the source scan has found so far (regular files and symlinks, and the sizes of
 * the files): they grow while it runs ({@code totalsFinal} false) and never shrink; once it ended they
 * stay. The done counts never pass them, and in the last call of a copy or send that ended whole
 * (neither cancelled nor broken off) they equal them. An entry is done once it was copied or sent,
 * found unchanged, or failed; the bytes of a file left in place count as done without being moved.
 *
 * @param filesDone entries settled so far
 * @param filesTotal entries found so far
 * @param bytesDone file bytes settled so far: moved, or left in place
 * @param bytesTotal sizes of the files found so far
 * @param bytesTransferred file data bytes copied or sent so far, as they move, those of files that then
 *        failed included (files left in place not counted; a local copy counts a sparse file's holes, as
 *        its result does, a send does not); when every file arrived, the last call's equals the
 *        result's {@link CopyResult#bytes()}
 * @param totalsFinal whether the scan has ended (the totals are final)
 * @param elapsed since the copy or send began
 */
public record Progress(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long bytesTransferred,
        boolean totalsFinal, Duration elapsed) {}
