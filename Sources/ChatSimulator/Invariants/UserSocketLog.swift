import ChatBackend

// What a run records of the user socket (`/ws/`, PROTOCOL.md) and of the REST additions around
// it: what the new invariants are checked against. Sequence numbers are the run's one counter,
// as in the rest of the ``Recording``.

/// One connection to `/ws/`, from its `hello` to its end, and what it saw.
public struct UserSocketLog: Sendable, Equatable {
    /// The user's username, as the invariants name clients.
    public var client: String
    /// The user's uuid (`read` events name users by it).
    public var user: String
    /// Numbers the run's user sockets from 1, to tell a user's connections apart in reports.
    public var number: Int
    /// When `hello` had arrived and the feed was started.
    public var openedAt: Int
    /// Nil while still open at the end of the run.
    public var closedAt: Int?
    /// Closed at once, mid-burst, without waiting for what was on its way: it is owed nothing it
    /// did not get (its successor resumes from what it saw).
    public var dropped: Bool
    /// When the socket was owed each chat's messages, and from which `seq`.
    public var chats: [ChatWindow]
    /// What it received that the invariants look at, in order of arrival.
    public var frames: [UserSocketFrame]

    public init(
        client: String, user: String, number: Int, openedAt: Int, closedAt: Int? = nil, dropped: Bool = false, chats: [ChatWindow] = [],
        frames: [UserSocketFrame] = []
    ) {
        self.client = client
        self.user = user
        self.number = number
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.dropped = dropped
        self.chats = chats
        self.frames = frames
    }

    /// The name of this connection in violation reports: `ann… (user socket 2)`.
    public var name: String { "\(client) (user socket \(number))" }

    /// The messages of one chat it received, in order.
    public func messages(of chat: String) -> [SeenMessage] {
        frames.compactMap { frame in
            guard case .message(chat, let message) = frame else { return nil }
            return message
        }
    }
}

/// A chat as one user socket follows it: owed every message sent from `from` until `until`, and
/// every message after the `seq` `position` exactly once, in order.
public struct ChatWindow: Sendable, Equatable {
    public var chat: String
    /// The run's sequence number from which messages sent to the chat are owed (the socket's open,
    /// or the moment it was told it joined the chat).
    public var from: Int
    /// When the user left the chat or was removed; nil: still in it.
    public var until: Int?
    /// The last `seq` the socket started after: `hello`'s `last_seq`, the `resume` position, or
    /// the `added` event's. Nil when unknown.
    public var position: Int64?
    /// Whether `position` is one the client named in `resume`.
    public var resumed: Bool

    public init(chat: String, from: Int, until: Int? = nil, position: Int64?, resumed: Bool = false) {
        self.chat = chat
        self.from = from
        self.until = until
        self.position = position
        self.resumed = resumed
    }
}

/// A frame of a user socket, as far as the invariants care.
public enum UserSocketFrame: Sendable, Equatable {
    /// `{"command": "message", "chat", "message": {...}}`
    case message(chat: String, SeenMessage)
    /// `{"command": "resumed", "chat", "seq", "truncated"?}`
    case resumed(chat: String, seq: Int64, truncated: Bool)
    /// `{"command": "read", "chat", "user", "seq"}`: a user's read marker.
    case read(chat: String, user: String, seq: Int64)

    /// The frame's form for the invariants, or nil for frames they do not look at.
    public init?(json frame: JSONValue) {
        guard let chat = frame["chat"]?.stringValue else { return nil }
        switch frame["command"]?.stringValue {
        case "message":
            guard let message = frame["message"] else { return nil }
            self = .message(chat: chat, SeenMessage(json: message))
        case "resumed":
            guard let seq = frame["seq"]?.intValue else { return nil }
            self = .resumed(chat: chat, seq: seq, truncated: frame["truncated"]?.boolValue == true)
        case "read":
            guard let user = frame["user"]?.stringValue, let seq = frame["seq"]?.intValue else { return nil }
            self = .read(chat: chat, user: user, seq: seq)
        default:
            return nil
        }
    }
}

/// An acknowledgement of a send with a `client_id`: the user socket's `ack` frame, or the answer
/// of `POST /api/chat/<uuid>/messages/`.
public struct AckLog: Sendable, Equatable {
    /// Who sent (their username).
    public var client: String
    public var chat: String
    public var clientID: String
    public var id: Int64
    public var seq: Int64
    /// Where it came from: `user socket 3`, `REST 201`.
    public var via: String

    public init(client: String, chat: String, clientID: String, id: Int64, seq: Int64, via: String) {
        self.client = client
        self.chat = chat
        self.clientID = clientID
        self.id = id
        self.seq = seq
        self.via = via
    }
}

/// A send again with a `client_id` sent before (the first send is a ``SentMessage``).
public struct RetryLog: Sendable, Equatable {
    public var sequence: Int
    public var step: String
    public var client: String
    public var chat: String
    public var clientID: String
    /// The text the retry carried: the first send's, or another (the server must keep the first).
    public var content: String

    public init(sequence: Int, step: String, client: String, chat: String, clientID: String, content: String) {
        self.sequence = sequence
        self.step = step
        self.client = client
        self.chat = chat
        self.clientID = clientID
        self.content = content
    }
}

/// An edit or a delete the server accepted (it announced `edited` or `deleted`).
public struct MessageChange: Sendable, Equatable {
    public var sequence: Int
    public var step: String
    public var chat: String
    /// The message's `seq`.
    public var seq: Int64
    /// Its content when it was sent: what identifies it in the rest of the recording.
    public var original: String
    /// The new content; nil: the message was deleted.
    public var content: String?

    public init(sequence: Int, step: String, chat: String, seq: Int64, original: String, content: String?) {
        self.sequence = sequence
        self.step = step
        self.chat = chat
        self.seq = seq
        self.original = original
        self.content = content
    }
}

/// A user's state in a chat as the server showed it: in `hello`, in a read marker's answer, or
/// in the chat JSON read at the end of the run.
public struct ChatStateLog: Sendable, Equatable {
    /// Where the state was read.
    public enum Source: String, Sendable {
        case hello
        /// The answer of `POST /api/chat/<uuid>/read/`.
        case readAnswer = "read answer"
        /// `GET /api/chat/<uuid>/` at the end of the run, once everything had settled.
        case end = "chat JSON at the end"
    }

    public var sequence: Int
    public var step: String
    public var client: String
    public var userID: Int64
    public var user: String
    public var chat: String
    public var lastSeq: Int64
    public var readSeq: Int64
    public var unread: Int64
    public var source: Source

    public init(
        sequence: Int, step: String, client: String, userID: Int64, user: String, chat: String, lastSeq: Int64, readSeq: Int64,
        unread: Int64, source: Source
    ) {
        self.sequence = sequence
        self.step = step
        self.client = client
        self.userID = userID
        self.user = user
        self.chat = chat
        self.lastSeq = lastSeq
        self.readSeq = readSeq
        self.unread = unread
        self.source = source
    }
}

/// A user out of a chat (left, or removed): their read marker went with their membership.
public struct Departure: Sendable, Equatable {
    public var sequence: Int
    public var user: String
    public var chat: String

    public init(sequence: Int, user: String, chat: String) {
        self.sequence = sequence
        self.user = user
        self.chat = chat
    }
}
