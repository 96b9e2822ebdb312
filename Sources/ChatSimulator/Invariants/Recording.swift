import ChatBackend

/// Everything the clients of one run saw, in the order the run did things: what the invariants
/// are checked against. Events carry a sequence number from one counter, so "was this socket open
/// when that message was sent" has an exact answer.
public struct Recording: Sendable {
    /// The scenario (or load profile) name, for violation reports.
    public var scenario: String
    public var sends: [SentMessage] = []
    public var sockets: [SocketLog] = []
    public var histories: [HistoryLog] = []
    /// User sockets (`/ws/`): what each saw, and when it was owed which chat.
    public var userSockets: [UserSocketLog] = []
    /// Every `ack` of a send with a `client_id` (user socket or REST), retries' included.
    public var acks: [AckLog] = []
    /// Retries: sends again with a `client_id` used before, and the text they carried.
    public var retries: [RetryLog] = []
    /// Edits and deletes the server accepted.
    public var changes: [MessageChange] = []
    /// A user's state in a chat (`last_seq`, `read_seq`, `unread`) as the server showed it.
    public var chatStates: [ChatStateLog] = []
    /// Users who left a chat or were removed from it (their read marker goes with them).
    public var departures: [Departure] = []
    /// Answers outside the contract, found as the run went.
    public var contractViolations: [Violation] = []

    public init(scenario: String) {
        self.scenario = scenario
    }
}

/// A message a client sent. Its content is unique within the run, so it identifies the message.
public struct SentMessage: Sendable, Equatable {
    public var sequence: Int
    public var step: String
    public var client: String
    public var chat: String
    public var content: String
    /// The idempotency key it was sent with (user socket `send`, REST); nil for `new_message`.
    public var clientID: String?

    public init(sequence: Int, step: String, client: String, chat: String, content: String, clientID: String? = nil) {
        self.sequence = sequence
        self.step = step
        self.client = client
        self.chat = chat
        self.content = content
        self.clientID = clientID
    }
}

/// A message as a client received it, live or from the history.
public struct SeenMessage: Sendable, Equatable {
    public var content: String
    public var authorID: Int64?
    public var timeStamp: String?
    /// Its position in its chat, from servers that number messages (nil from those that do not).
    public var seq: Int64?
    /// A tombstone: the message was deleted (its content is empty, its `seq` kept).
    public var deleted: Bool

    public init(content: String, authorID: Int64? = nil, timeStamp: String? = nil, seq: Int64? = nil, deleted: Bool = false) {
        self.content = content
        self.authorID = authorID
        self.timeStamp = timeStamp
        self.seq = seq
        self.deleted = deleted
    }

    /// A message's JSON as the contract shows it, in a broadcast or a history page.
    public init(json message: JSONValue) {
        self.init(
            content: message["content"]?.stringValue ?? message.serialized,
            authorID: message["author_id"]?.intValue,
            timeStamp: message["time_stamp"]?.stringValue,
            seq: message["seq"]?.intValue,
            deleted: message["deleted"]?.boolValue == true
        )
    }
}

/// One socket: when it was open (by sequence number) and the broadcasts it received, in order.
public struct SocketLog: Sendable, Equatable {
    public var client: String
    public var chat: String
    public var openedAt: Int
    /// Nil while still open at the end of the run.
    public var closedAt: Int?
    public var received: [SeenMessage]

    public init(client: String, chat: String, openedAt: Int, closedAt: Int? = nil, received: [SeenMessage] = []) {
        self.client = client
        self.chat = chat
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.received = received
    }

    /// Whether the socket was open when the message with this sequence number was sent.
    func wasOpen(at sequence: Int) -> Bool {
        openedAt < sequence && (closedAt.map { $0 > sequence } ?? true)
    }
}

/// A client's walk through a chat's whole history with `fetch_messages`, pages concatenated
/// (newest first, as served).
public struct HistoryLog: Sendable, Equatable {
    public var sequence: Int
    public var step: String
    public var client: String
    public var chat: String
    public var newestFirst: [SeenMessage]
    /// The contents of sends to the chat that no client had seen stored when the read began (no
    /// socket had the message, no acknowledgement had come): the history may rightly lack them.
    public var unconfirmed: Set<String>

    public init(sequence: Int, step: String, client: String, chat: String, newestFirst: [SeenMessage], unconfirmed: Set<String> = []) {
        self.sequence = sequence
        self.step = step
        self.client = client
        self.chat = chat
        self.newestFirst = newestFirst
        self.unconfirmed = unconfirmed
    }
}

/// A broken invariant, naming the scenario, the step, the client and the message.
public struct Violation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case lost, duplicated, misdelivered, reordered
        case historyGap = "history gap"
        case historyRepeat = "history repeat"
        case historyOrder = "history order"
        /// A `seq` missing between two a client saw, or a full history not starting at 1.
        case seqGap = "seq gap"
        /// A `seq` seen twice by one client, or naming two messages.
        case seqRepeat = "seq repeat"
        /// A send with a `client_id` stored more than once, or acknowledged with two ids.
        case notIdempotent = "send not idempotent"
        /// After a `resume`: a `seq` of the chat missing between the resume position and the end.
        case resumeGap = "resume gap"
        /// After a `resume`: a `seq` received twice, or one at or before the resume position.
        case resumeRepeat = "resume repeat"
        /// After a `resume`: a `seq` lower than one before it, or on the wrong side of `resumed`.
        case resumeOrder = "resume order"
        /// A user's read marker went back (a `read` event or the chat JSON's `read_seq`).
        case markerBack = "read marker back"
        /// A chat JSON's `unread` (or `last_seq`) that the history does not bear out.
        case unread = "unread count"
        /// An edit or delete the server accepted that the history does not show.
        case changeLost = "change lost"
        case contract

        /// The rule a violation of this kind breaks, as reports state it.
        public var rule: String {
            switch self {
            case .lost: "every message reaches every socket that was open in its chat when it was sent"
            case .duplicated: "no socket receives a message twice"
            case .misdelivered: "no socket receives a message of another chat"
            case .reordered: "all sockets of a chat see its messages in one order"
            case .historyGap: "a chat's full history holds every message sent to it before the read"
            case .historyRepeat: "no message appears twice in a chat's history"
            case .historyOrder: "a chat's history is in the order its sockets saw live"
            case .seqGap: "each chat's seq numbers run 1, 2, 3, … with no gap"
            case .seqRepeat: "one seq number names one message, seen once by each client"
            case .notIdempotent: "an acknowledged send is stored once, with one id, however often it is retried"
            case .resumeGap: "a resumed socket receives every message after its position up to the chat's last seq"
            case .resumeRepeat: "a resumed socket receives each message after its position once"
            case .resumeOrder: "a resumed socket receives each chat's messages in seq order, resumed between replay and live"
            case .markerBack: "a read marker never moves back"
            case .unread: "each chat's unread count is what the history says"
            case .changeLost: "an accepted edit or delete shows in the history"
            case .contract: "every answer has the contract's status and fields, and no 5xx"
            }
        }
    }

    public var kind: Kind
    public var scenario: String
    public var step: String
    public var client: String
    public var message: String
    public var detail: String

    public init(kind: Kind, scenario: String, step: String, client: String, message: String, detail: String) {
        self.kind = kind
        self.scenario = scenario
        self.step = step
        self.client = client
        self.message = message
        self.detail = detail
    }

    public var description: String {
        "[\(kind.rawValue)] scenario '\(scenario)', \(step), client \(client)" + (message.isEmpty ? "" : ", message '\(message)'")
            + ": \(detail)"
    }
}
