package org.uringsync.transfer;

import java.time.Duration;
import org.uringsync.ProgressListener;

/**
 * What a copy or send is asked to measure and keep to: a progress listener (null: none) called every
 * {@code interval}, and a rate limit in bytes per second (0: none).
 */
public record Metering(ProgressListener progress, Duration interval, long bytesPerSecond) {
    /** Nothing asked. */
    public static final Metering NONE = new Metering(null, Duration.ofMillis(250), 0);
}
