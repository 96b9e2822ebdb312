/// A socket of a load run that did not get everything: closed before the end (by the server, or
/// a dropped connection), or still open when the drain's deadline passed.
public struct SocketProblem: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        /// The connection ended before the run closed it.
        case closed
        /// Open at the end, with messages missing.
        case stalled
    }

    public var state: State
    public var client: String
    public var chat: String
    /// The worker process that owned it (1 when there is one).
    public var worker: Int
    /// The close frame's code and reason, if the server sent one.
    public var closeCode: Int?
    public var closeReason: String?
    /// How the connection ended, in words (closed sockets only).
    public var ending: String?
    /// Broadcasts of its chat it received, and those it should have.
    public var received: Int
    public var expected: Int

    /// Broadcasts it never got.
    public var missed: Int { max(0, expected - received) }

    /// `user3 on chat 1a2b…: closed (close 1011 "Ping timeout"), missed 120 of 700 messages`
    public var line: String {
        let what = switch state {
        case .closed: "closed early (\(ending ?? "?"))"
        case .stalled: "stalled (open, no more broadcasts)"
        }
        return "\(client) on chat \(chat) (worker \(worker)): \(what), missed \(missed) of \(expected) messages"
    }
}

/// How the wait for the last broadcasts ended.
public struct DrainReport: Sendable, Codable, Equatable {
    /// The longest wait allowed after the last send, in seconds (`--drain`).
    public var limit: Double
    /// The longest any worker waited.
    public var seconds: Double
    /// Whether some worker stopped at the deadline with broadcasts missing.
    public var timedOut: Bool

    /// `drain: every broadcast arrived 0.21 s after the last send (limit 15 s)`
    public var line: String {
        timedOut
            ? String(format: "drain: deadline reached %.1f s after the last send with broadcasts missing (limit %g s)", seconds, limit)
            : String(format: "drain: the last broadcasts (or closed sockets) came %.2f s after the last send (limit %g s)", seconds, limit)
    }
}
