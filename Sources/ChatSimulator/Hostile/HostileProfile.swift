import ChatBackend

/// Hostile clients that run beside a load profile, against the same server and for the same
/// duration: how many of each kind. All zero (the default) runs none.
///
/// Every count is bounded (``maximum``), so a typo cannot open ten thousand sockets on a shared
/// machine, and every client stops by itself when the load's sending ends.
public struct HostileProfile: Sendable, Codable, Equatable {
    /// The kinds of hostile client, by the name `--hostile` spells them with.
    public enum Kind: String, CaseIterable, Sendable, Codable {
        /// Connections that POST wrong passwords to `/api/rest-auth/login/` back to back.
        case loginFlood = "login-flood"
        /// Connections that send a request one byte at a time, never finishing it (slowloris).
        case slowHeaders = "slow-headers"
        /// Signed-in sockets sending `new_message` frames as fast as the server answers them.
        case frameFlood = "frame-flood"
        /// Loops that open a chat socket and drop it at once.
        case socketChurn = "socket-churn"

        /// The count a kind named without `=N` gets.
        public var defaultCount: Int {
            switch self {
            case .loginFlood: 60
            case .slowHeaders: 200
            case .frameFlood: 1
            case .socketChurn: 5
            }
        }

        /// The most clients of this kind one run may start.
        public var maximum: Int {
            switch self {
            case .loginFlood: 1000
            case .slowHeaders: 5000
            case .frameFlood: 100
            case .socketChurn: 100
            }
        }
    }

    public var loginFlood = 0
    public var slowHeaders = 0
    public var frameFlood = 0
    public var socketChurn = 0
    /// Seconds between two bytes of a slow-headers connection.
    public var slowHeadersInterval = 3.0

    public init() {}

    /// The number of clients of `kind`.
    public subscript(kind: Kind) -> Int {
        get {
            switch kind {
            case .loginFlood: loginFlood
            case .slowHeaders: slowHeaders
            case .frameFlood: frameFlood
            case .socketChurn: socketChurn
            }
        }
        set {
            switch kind {
            case .loginFlood: loginFlood = newValue
            case .slowHeaders: slowHeaders = newValue
            case .frameFlood: frameFlood = newValue
            case .socketChurn: socketChurn = newValue
            }
        }
    }

    /// Whether no hostile client runs.
    public var isEmpty: Bool {
        Kind.allCases.allSatisfy { self[$0] == 0 }
    }

    /// The kinds that run, in a fixed order.
    public var activeKinds: [Kind] {
        Kind.allCases.filter { self[$0] > 0 }
    }

    /// Reads `--hostile`'s value: comma-separated `kind=N`, or a bare `kind` for its default count,
    /// e.g. `login-flood=60,slow-headers=200,frame-flood,socket-churn=5`.
    public init(parsing text: String) throws {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard let kind = Kind(rawValue: parts[0]) else {
                throw SimulatorError("unknown hostile client '\(parts[0])' (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if parts.count == 1 {
                self[kind] = kind.defaultCount
            } else if let count = Int(parts[1]) {
                self[kind] = count
            } else {
                throw SimulatorError("\(kind.rawValue)=\(parts[1]): the count must be a whole number")
            }
        }
        try validate()
    }

    /// Refuses counts below zero or above a kind's maximum, and an interval that is not a few seconds.
    public func validate() throws {
        for kind in Kind.allCases where !(0...kind.maximum).contains(self[kind]) {
            throw SimulatorError("\(kind.rawValue) must be between 0 and \(kind.maximum)")
        }
        guard (0.1...60).contains(slowHeadersInterval) else { throw SimulatorError("the slow-headers interval must be between 0.1 and 60 seconds") }
    }

    /// `login-flood=60,slow-headers=200`, or `none`.
    public var spec: String {
        isEmpty ? "none" : activeKinds.map { "\($0.rawValue)=\(self[$0])" }.joined(separator: ",")
    }
}

extension HostileProfile {
    private enum CodingKeys: String, CodingKey {
        case loginFlood, slowHeaders, frameFlood, socketChurn, slowHeadersInterval
    }

    /// Reads the `hostile:` map of a profile file; keys left out keep their defaults (none of that kind).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        loginFlood = try container.decodeIfPresent(Int.self, forKey: .loginFlood) ?? loginFlood
        slowHeaders = try container.decodeIfPresent(Int.self, forKey: .slowHeaders) ?? slowHeaders
        frameFlood = try container.decodeIfPresent(Int.self, forKey: .frameFlood) ?? frameFlood
        socketChurn = try container.decodeIfPresent(Int.self, forKey: .socketChurn) ?? socketChurn
        slowHeadersInterval = try container.decodeIfPresent(Double.self, forKey: .slowHeadersInterval) ?? slowHeadersInterval
    }
}

extension RateLimitSettings {
    /// The limits an in-process server runs under while hostile clients attack it: the server's
    /// defaults, except per client address for log-ins and registrations, because every virtual
    /// user and every hostile client shares one loopback address, and the normal users' sign-ups
    /// would be refused before the attack starts. The per-account log-in limit, the message limit
    /// and the bounded password-hashing pool still stand.
    public static var hostileRun: RateLimitSettings {
        var settings = RateLimitSettings()
        settings.loginPerAddress = nil
        settings.registrationPerAddress = nil
        return settings
    }
}
