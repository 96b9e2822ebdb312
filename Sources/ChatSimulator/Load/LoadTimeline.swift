/// A load run second by second: what was sent, stored and delivered in each second, and the
/// latency of the messages sent in it. Second `n` spans `[n, n + 1)` seconds after the moment the
/// first message was due; the seconds of the drain, after the last send, follow.
public struct LoadTimeline: Sendable, Codable, Equatable {
    /// One second of the run.
    public struct Second: Sendable, Codable, Equatable {
        /// Seconds after the start (0, 1, 2, …).
        public var second: Int
        /// Messages sent in this second.
        public var sent: Int
        /// Messages that came back to their sender in this second: stored and broadcast.
        public var stored: Int
        /// Broadcasts received by any socket in this second.
        public var delivered: Int
        /// Messages sent in this second that the server refused, saying so.
        public var refused: Int
        /// The send-to-delivery latency of the messages sent in this second (every delivery of
        /// each); nil when none of them was delivered.
        public var latency: Percentiles?
    }

    /// Latency percentiles of one second, in milliseconds.
    public struct Percentiles: Sendable, Codable, Equatable {
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var max: Double
        /// Deliveries measured.
        public var count: Int
    }

    public var seconds: [Second]

    public init(seconds: [Second]) {
        self.seconds = seconds
    }
}

/// Collects a run's events by second, then makes its ``LoadTimeline``. Times are
/// ``MonotonicTime`` nanoseconds.
struct TimelineBuilder {
    private let start: UInt64
    private var sent: [Int: Int] = [:]
    private var stored: [Int: Int] = [:]
    private var delivered: [Int: Int] = [:]
    private var refused: [Int: Int] = [:]
    /// Latencies in microseconds, by the second their message was sent: exact percentiles per
    /// second, at the cost of 4 bytes a delivery (a histogram per second would cost far more for
    /// long runs).
    private var latencies: [Int: [UInt32]] = [:]

    init(start: UInt64) {
        self.start = start
    }

    private func second(_ time: UInt64) -> Int {
        time <= start ? 0 : Int((time - start) / 1_000_000_000)
    }

    mutating func sent(at time: UInt64) { sent[second(time), default: 0] += 1 }
    mutating func stored(at time: UInt64) { stored[second(time), default: 0] += 1 }
    mutating func refused(sentAt time: UInt64) { refused[second(time), default: 0] += 1 }

    /// A broadcast received at `arrival`, of a message sent at `sentAt` (when known).
    mutating func delivered(at arrival: UInt64, sentAt: UInt64?) {
        delivered[second(arrival), default: 0] += 1
        guard let sentAt, arrival >= sentAt else { return }
        latencies[second(sentAt), default: []].append(UInt32(min((arrival - sentAt) / 1000, UInt64(UInt32.max))))
    }

    /// Every second from 0 to the last with an event, empty ones included (a stall shows as a gap).
    func timeline() -> LoadTimeline {
        let last = [sent.keys.max(), stored.keys.max(), delivered.keys.max(), refused.keys.max(), latencies.keys.max()].compactMap { $0 }.max()
        guard let last else { return LoadTimeline(seconds: []) }
        return LoadTimeline(seconds: (0...last).map { second in
            LoadTimeline.Second(
                second: second, sent: sent[second] ?? 0, stored: stored[second] ?? 0, delivered: delivered[second] ?? 0,
                refused: refused[second] ?? 0, latency: latencies[second].map(Self.percentiles)
            )
        })
    }

    /// Nearest-rank percentiles of microsecond latencies, in milliseconds.
    private static func percentiles(_ micro: [UInt32]) -> LoadTimeline.Percentiles {
        let sorted = micro.sorted()
        func rank(_ percent: Double) -> Double {
            let index = Swift.max(0, Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[Swift.min(index, sorted.count - 1)]) / 1000
        }
        return LoadTimeline.Percentiles(p50: rank(50), p90: rank(90), p99: rank(99), max: Double(sorted.last ?? 0) / 1000, count: sorted.count)
    }
}
