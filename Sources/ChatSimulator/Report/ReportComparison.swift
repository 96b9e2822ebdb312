import ChatBackend
import Foundation

/// The figures of a load report that can be compared with another run's: read from the JSON
/// `chat-sim load --report` writes, leniently, so a report of an older or newer simulator still
/// compares on the figures both have.
public struct ReportFigures: Sendable {
    /// Where the figures come from: a file name, or "this run".
    public var source: String
    /// `server`, `seed` and the profile's shape, to show what was compared with what.
    public var description: String
    /// Values by ``ComparedMetric/id``; a metric the report lacks is absent.
    public var values: [String: Double]

    /// The figures of `report`, read through its JSON as a file's would be.
    public init(_ report: LoadReport, source: String = "this run") throws {
        let encoder = JSONEncoder()
        try self.init(json: JSONValue.parse(encoder.encode(report)), source: source)
    }

    /// The figures of a JSON report; throws when it is not a JSON object.
    public init(json: JSONValue, source: String) throws {
        guard case .object = json else { throw SimulatorError("\(source) is not a load report (a JSON object)") }
        self.source = source
        var values: [String: Double] = [:]
        for metric in ComparedMetric.all {
            if let value = metric.value(json) { values[metric.id] = value }
        }
        guard !values.isEmpty else { throw SimulatorError("\(source) holds none of a load report's figures") }
        self.values = values
        let profile = json["profile"]
        let shape = ["users", "chats", "groupSize", "rate", "duration"].compactMap { key in
            profile?[key]?.doubleValue.map { "\(key) \(Self.number($0))" }
        }
        description = [
            json["server"]?.stringValue.map { "server \($0)" },
            // An integer as is: a seed may exceed what a Double holds exactly.
            (json["seed"]?.intValue.map(String.init) ?? json["seed"]?.doubleValue.map(Self.number)).map { "seed \($0)" },
            shape.isEmpty ? nil : shape.joined(separator: ", "),
        ].compactMap { $0 }.joined(separator: "; ")
    }

    /// Reads a report `chat-sim load --report FILE` wrote.
    public static func load(path: String) throws -> ReportFigures {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SimulatorError("cannot read the baseline report \(path): \(error.localizedDescription)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw SimulatorError("the baseline report \(path) is not JSON: \(error)")
        }
        return try ReportFigures(json: json, source: URL(fileURLWithPath: path).lastPathComponent)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A figure two load reports are compared on, and which way is better.
public struct ComparedMetric: Sendable {
    /// Which change is an improvement.
    public enum Direction: String, Sendable {
        /// Latencies, errors, violations.
        case lowerIsBetter
        /// Throughput, deliveries.
        case higherIsBetter
    }

    public let id: String
    /// What a person reads: `delivery latency p99`.
    public let title: String
    /// `ms`, `msg/s`, `%` or empty for counts.
    public let unit: String
    public let direction: Direction
    /// The figure in a JSON report, if it has it.
    let value: @Sendable (JSONValue) -> Double?

    /// Every figure compared, in the order reports list them.
    public static let all: [ComparedMetric] = {
        var metrics: [ComparedMetric] = []
        for (key, name) in [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p99.9"), ("max", "max"), ("mean", "mean")] {
            metrics.append(.init(id: "delivery.\(key)", title: "delivery latency \(name)", unit: "ms", direction: .lowerIsBetter) { $0["deliveryLatency"]?[key]?.doubleValue })
        }
        metrics += [
            .init(id: "stored.rate", title: "messages stored per second", unit: "msg/s", direction: .higherIsBetter) { $0["messagesPerSecond"]?.doubleValue },
            .init(id: "delivered.rate", title: "deliveries per second", unit: "/s", direction: .higherIsBetter) { $0["deliveriesPerSecond"]?.doubleValue },
            .init(id: "delivered.share", title: "deliveries of those expected", unit: "%", direction: .higherIsBetter) { json in
                guard let done = json["deliveries"]?.doubleValue, let due = json["expectedDeliveries"]?.doubleValue, due > 0 else { return nil }
                return done / due * 100
            },
        ]
        for (key, name) in [("p50", "p50"), ("p99", "p99")] {
            metrics.append(.init(id: "connect.\(key)", title: "socket connect latency \(name)", unit: "ms", direction: .lowerIsBetter) { $0["connectLatency"]?[key]?.doubleValue })
        }
        for (key, name) in [("p50", "p50"), ("p99", "p99")] {
            metrics.append(.init(id: "rest.\(key)", title: "REST latency (set-up) \(name)", unit: "ms", direction: .lowerIsBetter) { $0["restLatency"]?[key]?.doubleValue })
        }
        metrics += [
            .init(id: "probe.p99", title: "REST latency (during sending) p99", unit: "ms", direction: .lowerIsBetter) { $0["probeLatency"]?["p99"]?.doubleValue },
            .init(id: "refused", title: "messages refused", unit: "", direction: .lowerIsBetter) { $0["messagesRefused"]?.doubleValue },
            .init(id: "errors", title: "errors", unit: "", direction: .lowerIsBetter) { json in
                guard case .object(let members)? = json["errors"] else { return nil }
                return members.reduce(0) { $0 + ($1.1.doubleValue ?? 0) }
            },
            .init(id: "violations", title: "invariant violations", unit: "", direction: .lowerIsBetter) { $0["violations"]?.arrayValue.map { Double($0.count) } },
            .init(id: "socketProblems", title: "sockets closed early or stalled", unit: "", direction: .lowerIsBetter) {
                $0["socketProblems"]?.arrayValue.map { Double($0.count) }
            },
        ]
        return metrics
    }()

    init(id: String, title: String, unit: String, direction: Direction, value: @escaping @Sendable (JSONValue) -> Double?) {
        self.id = id
        self.title = title
        self.unit = unit
        self.direction = direction
        self.value = value
    }
}

/// A load run next to a baseline run: each figure both have, and whether it got better or worse.
public struct ReportComparison: Sendable {
    /// What a figure did.
    public enum Verdict: String, Sendable {
        case better, worse, unchanged
    }

    /// One figure of both runs.
    public struct Row: Sendable {
        public let metric: ComparedMetric
        public let baseline: Double
        public let current: Double
        public let verdict: Verdict

        /// The change, relative to the baseline when it is not zero: `+12.5 %`, `-3`.
        public var change: String {
            let delta = current - baseline
            if baseline != 0 { return String(format: "%+.1f %%", delta / abs(baseline) * 100) }
            return String(format: "%+g", delta)
        }
    }

    public let baseline: ReportFigures
    public let current: ReportFigures
    public let rows: [Row]

    /// A change within this share of the baseline is noise, not a verdict.
    public static let tolerance = 0.005

    public init(baseline: ReportFigures, current: ReportFigures) {
        self.baseline = baseline
        self.current = current
        rows = ComparedMetric.all.compactMap { metric in
            guard let old = baseline.values[metric.id], let new = current.values[metric.id] else { return nil }
            return Row(metric: metric, baseline: old, current: new, verdict: Self.verdict(old, new, metric.direction))
        }
    }

    static func verdict(_ old: Double, _ new: Double, _ direction: ComparedMetric.Direction) -> Verdict {
        let delta = new - old
        guard abs(delta) > abs(old) * tolerance, delta != 0 else { return .unchanged }
        switch direction {
        case .lowerIsBetter: return delta < 0 ? .better : .worse
        case .higherIsBetter: return delta > 0 ? .better : .worse
        }
    }

    /// The rows as text lines, for the terminal.
    public var lines: [String] {
        ["compared with \(baseline.source)" + (baseline.description.isEmpty ? "" : " (\(baseline.description))") + ":"]
            + rows.map { row in
                "  " + Self.pad(row.metric.title, 36) + " " + Self.pad(Self.format(row.baseline, row.metric), 14, left: true) + " → "
                    + Self.pad(Self.format(row.current, row.metric), 14) + " " + Self.pad(row.change, 10, left: true) + "  " + row.verdict.rawValue
            }
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return left ? padding + text : text + padding
    }

    /// A figure with its unit: `4.20 ms`, `933.3 msg/s`, `12`.
    public static func format(_ value: Double, _ metric: ComparedMetric) -> String {
        switch metric.unit {
        case "": value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.1f", value)
        case "ms": String(format: "%.2f ms", value)
        case "%": String(format: "%.1f %%", value)
        default: String(format: "%.1f %@", value, metric.unit)
        }
    }
}
