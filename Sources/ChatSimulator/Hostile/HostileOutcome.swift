import Foundation
import Synchronization

/// What the clients of one hostile kind got from the server.
public struct HostileOutcome: Sendable, Codable, Equatable {
    /// Clients of this kind that ran.
    public var clients = 0
    /// Log-in requests (login flood), connections opened (slow headers, socket churn) or frames
    /// sent (frame flood).
    public var attempts = 0
    /// HTTP answers by status code (`"400"`, `"429"`, `"503"`, `"101"` for an accepted socket).
    public var statuses: [String: Int] = [:]
    /// Connections or sockets the server closed before the client was done with them.
    public var closedByServer = 0
    /// Frame flood: own messages the server stored and echoed back.
    public var framesStored = 0
    /// Frame flood: frames answered `{"command": "error", "error": "rate_limited"}`.
    public var framesRateLimited = 0
    /// Anything else, by kind: other error frames, refused connections, transport errors.
    public var errors: [String: Int] = [:]

    public init() {}

    /// Counts one HTTP answer.
    mutating func count(status: Int) {
        statuses[String(status), default: 0] += 1
    }

    /// Counts one failure that is not an answer.
    mutating func count(error kind: String) {
        errors[kind, default: 0] += 1
    }

    /// `60 clients, 12000 attempts (600.0/s): 400 ×420, 429 ×11000; closed by server 0; …`
    func line(seconds: Double) -> String {
        var parts = [String(format: "%d clients, %d attempts (%.1f/s)", clients, attempts, Double(attempts) / max(seconds, 0.001))]
        parts.append("answers " + Self.counts(statuses, sorted: { (Int($0) ?? 0) < (Int($1) ?? 0) }))
        if framesStored + framesRateLimited > 0 { parts.append("frames stored \(framesStored), rate_limited \(framesRateLimited)") }
        parts.append("closed by server \(closedByServer)")
        parts.append("errors " + Self.counts(errors, sorted: <))
        return parts.joined(separator: "; ")
    }

    private static func counts(_ counts: [String: Int], sorted: (String, String) -> Bool) -> String {
        counts.isEmpty ? "none" : counts.keys.sorted(by: sorted).map { "\($0) ×\(counts[$0] ?? 0)" }.joined(separator: ", ")
    }
}

/// One kind's ``HostileOutcome``, added to from any of its clients' tasks.
final class HostileTally: Sendable {
    private let outcome = Mutex(HostileOutcome())

    init(clients: Int) {
        outcome.withLock { $0.clients = clients }
    }

    func update(_ change: (inout HostileOutcome) -> Void) {
        outcome.withLock { change(&$0) }
    }

    var snapshot: HostileOutcome {
        outcome.withLock { $0 }
    }
}

/// What every hostile client got during a run.
public struct HostileReport: Sendable, Codable, Equatable {
    public var profile: HostileProfile
    /// Seconds the hostile clients ran.
    public var seconds: Double
    /// Outcomes by kind (`login-flood`, …), for the kinds that ran.
    public var outcomes: [String: HostileOutcome]

    public init(profile: HostileProfile, seconds: Double, outcomes: [String: HostileOutcome]) {
        self.profile = profile
        self.seconds = seconds
        self.outcomes = outcomes
    }

    /// The outcome of `kind`, if it ran.
    public subscript(kind: HostileProfile.Kind) -> HostileOutcome? {
        outcomes[kind.rawValue]
    }

    /// One line per kind that ran.
    public var lines: [String] {
        profile.activeKinds.compactMap { kind in
            self[kind].map { "hostile \(kind.rawValue): " + $0.line(seconds: seconds) }
        }
    }
}
