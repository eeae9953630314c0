package org.uringsync.cli;

import java.io.PrintStream;
import java.util.ArrayDeque;
import org.uringsync.Progress;
import org.uringsync.ProgressListener;
import org.uringsync.Sizes;

/**
 * The live progress line on a terminal: redrawn in place ({@code \r}, then erase to the end of the
 * line) a few times a second, cleared at the end. Other output goes {@link #above} it: the line is
 * erased, the text printed, the line drawn again under it.
 *
 * <pre>
 *   312.4 MiB / 1.2 GiB  25%  45.3 MiB/s  ETA 0:00:20  1,234/5,000 files
 * </pre>
 *
 * While the source is still being counted the totals end in {@code +} and there is no ETA; the rate is
 * over the last two seconds.
 */
final class ProgressLine implements ProgressListener {
    static final String ERASE = "\r\033[K";
    private static final long WINDOW_NANOS = 2_000_000_000L;

    private final PrintStream term;
    private final int width; // a longer line would wrap, and the erase reaches only its last row
    private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {nanos, bytes moved}
    private String shown = ""; // the line on screen now ("" when none)
    private boolean done;

    /** @param columns the terminal's width (0: unknown, then $COLUMNS or 80) */
    ProgressLine(PrintStream term, int columns) {
        this.term = term;
        this.width = (columns >= 20 ? columns : columns(System.getenv("COLUMNS"))) - 1;
    }

    /** The terminal's width as the shell exports it, else 80. */
    static int columns(String env) {
        try {
            int c = env == null ? 80 : Integer.parseInt(env.trim());
            return c >= 20 ? c : 80;
        } catch (NumberFormatException e) {
            return 80;
        }
    }

    @Override
    public synchronized void progress(Progress p) {
        if (done) {
            return;
        }
        draw(render(p, rate(p.elapsed().toNanos(), p.bytesTransferred())));
    }

    /** Draws a line of the receiver's counts (it has no totals). */
    synchronized void receiving(int connections, long files, long bytes, long nanos) {
        if (!done) {
            draw("  " + connections + " connection" + (connections == 1 ? "" : "s") + "  " + count(files) + " files  "
                    + Sizes.format(bytes) + "  " + Sizes.format(rate(nanos, bytes)) + "/s");
        }
    }

    /** Prints with {@code print} while the line is erased, then draws it again. */
    synchronized void above(Runnable print) {
        if (!shown.isEmpty()) {
            term.print(ERASE);
            term.flush();
        }
        print.run();
        if (!shown.isEmpty() && !done) {
            term.print(shown);
            term.flush();
        }
    }

    /** Erases the line for good: nothing of it stays on the terminal. */
    synchronized void clear() {
        if (!shown.isEmpty()) {
            term.print(ERASE);
            term.flush();
        }
        shown = "";
        done = true;
    }

    private void draw(String line) {
        if (line.length() > width) {
            line = line.substring(0, width);
        }
        shown = line;
        term.print(ERASE + line);
        term.flush();
    }

    /** Bytes per second over the last two seconds of samples. */
    private long rate(long nanos, long bytes) {
        samples.addLast(new long[] {nanos, bytes});
        while (samples.size() > 2 && samples.peekFirst()[0] < nanos - WINDOW_NANOS) {
            samples.removeFirst();
        }
        long[] first = samples.peekFirst();
        long dt = nanos - first[0];
        return dt <= 0 ? 0 : (long) ((bytes - first[1]) * 1e9 / dt);
    }

    static String render(Progress p, long rate) {
        String more = p.totalsFinal() ? "" : "+";
        StringBuilder b = new StringBuilder("  ").append(Sizes.format(p.bytesDone())).append(" / ")
                .append(Sizes.format(p.bytesTotal())).append(more);
        if (p.totalsFinal()) {
            long pct = p.bytesTotal() == 0 ? 100 : p.bytesDone() * 100 / p.bytesTotal();
            b.append("  ").append(pct).append('%');
        }
        b.append("  ").append(Sizes.format(rate)).append("/s");
        long left = p.bytesTotal() - p.bytesDone();
        b.append("  ETA ").append(p.totalsFinal() && rate > 0 ? clock(left / rate) : p.totalsFinal() && left == 0 ? clock(0) : "-:--:--");
        b.append("  ").append(count(p.filesDone())).append('/').append(count(p.filesTotal())).append(more).append(" files");
        return b.toString();
    }

    static String clock(long seconds) {
        long h = seconds / 3600;
        long m = seconds / 60 % 60;
        long s = seconds % 60;
        return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    }

    /** 1234567 as {@code 1,234,567}. */
    static String count(long n) {
        String s = Long.toString(n);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (i > 0 && (s.length() - i) % 3 == 0) {
                b.append(',');
            }
            b.append(s.charAt(i));
        }
        return b.toString();
    }
}
