import Foundation

/// Nanoseconds of `CLOCK_MONOTONIC`: one clock for every process on the machine (on Linux it is
/// system-wide), so a message sent by one `load-worker` process and received by another has a
/// latency. `ContinuousClock` instants cannot cross a process boundary.
public enum MonotonicTime {
    /// The clock's reading now.
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// The `ContinuousClock` instant of a reading of this clock (close enough for scheduling: the
    /// two clocks are read one after the other).
    public static func instant(of nanoseconds: UInt64) -> ContinuousClock.Instant {
        let here = now()
        let clockNow = ContinuousClock.now
        return nanoseconds >= here
            ? clockNow + .nanoseconds(Int64(nanoseconds - here))
            : clockNow - .nanoseconds(Int64(here - nanoseconds))
    }
}
