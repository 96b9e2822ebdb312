import Foundation
import Histogram
import Synchronization

/// Latency statistics in milliseconds, from an HdrHistogram of microseconds.
public struct LatencySummary: Sendable, Codable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        p50 = Self.ms(histogram.valueAtPercentile(50))
        p90 = Self.ms(histogram.valueAtPercentile(90))
        p99 = Self.ms(histogram.valueAtPercentile(99))
        p999 = Self.ms(histogram.valueAtPercentile(99.9))
        max = Self.ms(histogram.totalCount == 0 ? 0 : histogram.max)
        mean = histogram.totalCount == 0 ? 0 : histogram.mean / 1000
    }

    private static func ms(_ microseconds: UInt64) -> Double {
        Double(microseconds) / 1000
    }

    /// `p50 1.2 ms, p90 …`
    public var line: String {
        String(format: "p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms  (n=%llu)", p50, p90, p99, p999, max, count)
    }
}

/// A histogram of durations, recorded in microseconds (1 µs to 10 min, 3 significant digits).
struct LatencyHistogram {
    private(set) var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(_ duration: Duration) {
        let micro = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        _ = histogram.record(UInt64(Swift.max(1, Swift.min(micro, 600_000_000))))
    }

    var summary: LatencySummary { LatencySummary(histogram) }
}

/// What a load run measured: the JSON report, and the human summary.
public struct LoadReport: Sendable, Codable {
    public var profile: LoadProfile
    public var seed: UInt64
    public var server: String
    public var secondsSending: Double
    public var messagesSent: Int
    /// Messages whose sender saw them come back (stored and broadcast).
    public var messagesStored: Int
    public var deliveries: Int
    public var expectedDeliveries: Int
    public var messagesPerSecond: Double
    public var deliveriesPerSecond: Double
    public var deliveryLatency: LatencySummary
    public var connectLatency: LatencySummary
    public var restLatency: LatencySummary
    /// The users' REST requests while messages went out (``LoadProfile/restProbes``); nil when none.
    public var probeLatency: LatencySummary?
    public var errors: [String: Int]
    public var violations: [String]
    public var thresholdFailures: [String]
    /// What the hostile clients got; nil when none ran.
    public var hostile: HostileReport?
    /// The same profile run first without the hostile clients, when compared with it.
    public var baseline: Baseline?
    /// How the wait for the last broadcasts after the last send ended.
    public var drain = DrainReport(limit: 0, seconds: 0, timedOut: false)
    /// Every socket closed before the end or stalled, with what it missed.
    public var socketProblems: [SocketProblem] = []
    /// The simulator's own CPU over sending and drain, per process (each worker, and the parent
    /// when there are workers).
    public var simulatorCPU: [CPUUsage] = []
    /// Each invariant checked, with its violations (all of which are also in ``violations``).
    public var invariants: [InvariantOutcome] = []
    /// The run second by second.
    public var timeline = LoadTimeline(seconds: [])
    /// Messages the server refused and said so to their sender (busy, rate-limited): not stored,
    /// expected by no one, and counted among the error frames too.
    public var messagesRefused = 0
    /// On user sockets: reconnects, retries and acks; nil on chat sockets.
    public var userSockets: UserSocketLoadReport?

    /// Whether the run holds: no violation, no threshold failed, and every socket stayed open
    /// and got everything (a socket that lost messages also breaks the delivery invariant; one
    /// the server closed is a failure even if nothing was due to it any more).
    public var passed: Bool { violations.isEmpty && thresholdFailures.isEmpty && socketProblems.isEmpty }

    /// The summary a person reads at the end of a run.
    public var summary: String {
        var lines = [
            "load: \(profile.users) users, \(profile.chats) chats of \(profile.groupSize), \(profile.rate) msg/s for \(profile.duration) s (ramp-up \(profile.rampUp) s), seed \(seed), server \(server)",
            String(format: "sent %d messages (%.1f/s), %d stored; %d of %d deliveries (%.1f/s)", messagesSent, messagesPerSecond, messagesStored, deliveries, expectedDeliveries, deliveriesPerSecond),
            "delivery latency (send to receipt): " + deliveryLatency.line,
            "socket connect latency:             " + connectLatency.line,
            "REST latency (set-up):              " + restLatency.line,
            drain.line,
        ]
        let closed = socketProblems.filter { $0.state == .closed }.count
        lines.append(
            socketProblems.isEmpty ? "sockets: every one stayed open and got every broadcast"
                : "sockets: \(closed) closed early, \(socketProblems.count - closed) stalled; \(socketProblems.reduce(0) { $0 + $1.missed }) broadcasts missed"
        )
        lines += socketProblems.prefix(20).map { "  " + $0.line }
        if socketProblems.count > 20 { lines.append("  … and \(socketProblems.count - 20) more (all in the JSON report)") }
        if let userSockets { lines.append(userSockets.line) }
        lines += simulatorCPU.map { "simulator CPU, " + $0.line }
        if let probeLatency { lines.append("REST latency (during sending):      " + probeLatency.line) }
        lines += [
            "errors: " + (errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")),
            "invariants: " + (violations.isEmpty ? "all hold" : "\(violations.count) violation(s)"),
        ]
        lines += violations.prefix(10).map { "  " + $0 }
        if let hostile {
            lines.append("hostile clients: \(hostile.profile.spec), for \(String(format: "%.1f", hostile.seconds)) s")
            lines += hostile.lines
        }
        if let baseline { lines.append(baseline.line(against: deliveryLatency.p99)) }
        lines += thresholdFailures.map { "threshold failed: " + $0 }
        lines.append(passed ? "PASS" : "FAIL")
        return lines.joined(separator: "\n")
    }
}

/// What the user sockets of a run did: reconnects, sends made again, acknowledgements.
public struct UserSocketLoadReport: Sendable, Codable, Equatable {
    /// Connections dropped on purpose and resumed.
    public var reconnects: Int
    /// Sends made again (same `client_id`) after a reconnect, their ack not yet come.
    public var retried: Int
    /// Sends with a `client_id`, and `ack`s received (a retry's included).
    public var sends: Int
    public var acks: Int
    /// Sends never acknowledged nor refused, on sockets still open at the end.
    public var unacknowledged: Int

    /// `user sockets: 12 reconnects (drop + resume), 3 sends retried; 980 acks for 977 sends, 0 unacknowledged`
    public var line: String {
        "user sockets: \(reconnects) reconnects (drop + resume), \(retried) sends retried; \(acks) acks for \(sends) sends, \(unacknowledged) unacknowledged"
    }
}

/// The figures of a run of the same profile without the hostile clients, to compare with.
public struct Baseline: Sendable, Codable {
    public var deliveryLatency: LatencySummary
    public var restLatency: LatencySummary
    public var probeLatency: LatencySummary?
    public var messagesPerSecond: Double
    public var errors: [String: Int]
    public var violations: [String]
    /// The most the p99 delivery latency may grow with the hostile clients: a factor of the baseline's.
    public var p99Factor: Double

    /// The figures of `report`, a run without hostile clients.
    public init(_ report: LoadReport, p99Factor: Double) {
        deliveryLatency = report.deliveryLatency
        restLatency = report.restLatency
        probeLatency = report.probeLatency
        messagesPerSecond = report.messagesPerSecond
        errors = report.errors
        violations = report.violations
        self.p99Factor = p99Factor
    }

    /// Why a run with hostile clients whose p99 delivery latency was `p99` fails the comparison
    /// (the baseline broke an invariant, or the p99 grew beyond the factor), if it does.
    public func failures(p99: Double) -> [String] {
        var failures: [String] = []
        if !violations.isEmpty { failures.append("baseline run without hostile clients: \(violations.count) violation(s)") }
        if p99 > deliveryLatency.p99 * p99Factor {
            failures.append(String(format: "p99 latency with hostile clients %.2f ms > %.1f × %.2f ms without", p99, p99Factor, deliveryLatency.p99))
        }
        return failures
    }

    /// `baseline without hostile clients: p99 2.10 ms; with: 7.93 ms (×3.8, limit ×10)`
    func line(against p99: Double) -> String {
        var line = String(
            format: "baseline without hostile clients: delivery p50 %.2f  p99 %.2f ms; with them p99 %.2f ms (×%.1f, limit ×%.1f)",
            deliveryLatency.p50, deliveryLatency.p99, p99, p99 / max(deliveryLatency.p99, 0.001), p99Factor
        )
        if let probeLatency { line += String(format: "; REST during sending p50 %.2f  p99 %.2f ms", probeLatency.p50, probeLatency.p99) }
        return line
    }
}

extension LoadReport {
    /// Records `baseline`, the same profile run without the hostile clients, and fails this run
    /// when it does not measure up to it.
    public mutating func compare(with baseline: Baseline) {
        self.baseline = baseline
        thresholdFailures += baseline.failures(p99: deliveryLatency.p99)
    }
}

/// A latency histogram that any task may add to: the REST latencies a client's observer reports.
final class LatencyRecorder: Sendable {
    private let histogram = Mutex(LatencyHistogram())

    /// Records how long `response` took.
    @Sendable func record(_ response: APIResponse) {
        histogram.withLock { $0.record(response.latency) }
    }

    var summary: LatencySummary {
        histogram.withLock { $0.summary }
    }
}

/// One invariant a load run checked: the rule, and what broke it.
public struct InvariantOutcome: Sendable, Codable, Equatable {
    /// Short name: the violation kind (`lost`, `seq gap`, …) or a load run's own check.
    public var name: String
    /// The rule, in words.
    public var rule: String
    /// How many violations were found.
    public var violations: Int
    /// The first few of them, described.
    public var examples: [String]

    public var passed: Bool { violations == 0 }

    /// The invariants of a load run: the checker's (by kind; the contract's answers are a
    /// scenario's business, and the history's only when histories were read), whether every
    /// history could be read, and that no refused message was delivered.
    static func ofLoadRun(
        checked: [Violation], checkedHistory: Bool, unreadHistories: [String], deliveredRefusals: (count: Int, examples: [String])
    ) -> [InvariantOutcome] {
        let byKind = Dictionary(grouping: checked, by: \.kind)
        let historyKinds: Set<Violation.Kind> = [.historyGap, .historyRepeat, .historyOrder]
        var outcomes = Violation.Kind.allCases.filter { $0 != .contract && (checkedHistory || !historyKinds.contains($0)) }.map { kind in
            let found = byKind[kind] ?? []
            return InvariantOutcome(name: kind.rawValue, rule: kind.rule, violations: found.count, examples: found.prefix(5).map(\.description))
        }
        if checkedHistory {
            outcomes.append(
                InvariantOutcome(
                    name: "history readable", rule: "every chat's whole history can be read back at the end",
                    violations: unreadHistories.count, examples: Array(unreadHistories.prefix(5))
                )
            )
        }
        outcomes.append(
            InvariantOutcome(
                name: "refusals kept", rule: "a message the server said it did not store is delivered to no one",
                violations: deliveredRefusals.count, examples: Array(deliveredRefusals.examples.prefix(5))
            )
        )
        return outcomes
    }
}
