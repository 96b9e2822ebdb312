/// What a load run's parent and its workers tell each other. A worker (a `chat-sim load-worker`
/// process, or the parent itself with one worker) owns some of the run's sockets: it opens them,
/// sends their share of the schedule and records what they receive; the parent signs the users
/// up, builds the chats, merges the recordings and checks them.
///
/// Times are ``MonotonicTime`` nanoseconds, the one clock all the processes share.

/// A socket a worker opens.
public struct SocketSpec: Sendable, Codable, Equatable {
    /// The socket's number in the run.
    public var index: Int
    /// Its URL (with the user's token) and handshake headers (the session cookie).
    public var endpoint: SocketEndpoint
    /// Its chat's uuid (a user socket's first chat).
    public var chat: String
    /// For a user socket (`/ws/`): every chat it follows; nil for a chat socket.
    public var userChats: [String]?
}

/// The first thing a worker is told: which sockets to open.
public struct WorkerSetup: Sendable, Codable {
    /// 1, 2, …
    public var worker: Int
    /// The process's name in reports: `chat-sim` (the parent's own sockets), `worker 2`.
    public var name: String
    public var sockets: [SocketSpec]
    /// Whether the worker's process also runs the in-process server.
    public var includesServer: Bool
}

/// What a worker answers once its sockets are open.
public struct WorkerReady: Sendable, Codable {
    /// The sockets that opened (and answered a first `fetch_messages`).
    public var opened: [Int]
    /// Why the others did not, by socket.
    public var refused: [Refusal]
    /// How long each opened socket took to open and answer, in microseconds.
    public var connectMicroseconds: [UInt64]

    /// A socket that could not be opened.
    public struct Refusal: Sendable, Codable {
        public var index: Int
        public var reason: String
    }
}

/// A message to send: when, on which socket, and what.
public struct PlannedSend: Sendable, Codable, Equatable {
    /// Its number in the run (1, 2, …), the order the schedule sends them in.
    public var sequence: Int
    /// Seconds after the start.
    public var at: Double
    public var socket: Int
    public var content: String
    /// On a user socket: the chat it goes to, and its idempotency key.
    public var chat: String?
    public var clientID: String?
}

/// A user socket's connection lost on purpose, and resumed, this many seconds after the start.
public struct PlannedReconnect: Sendable, Codable, Equatable {
    public var socket: Int
    public var at: Double
}

/// The second thing a worker is told: when to start, what to send, and what to wait for.
public struct WorkerStart: Sendable, Codable {
    /// The common start instant (``MonotonicTime`` nanoseconds).
    public var start: UInt64
    /// This worker's share of the schedule, in order.
    public var sends: [PlannedSend]
    /// How many broadcasts each of this worker's sockets should get (socket index, count).
    public var expected: [Expectation]
    /// When the run's last message is due, in seconds after the start: the drain starts then (or
    /// when this worker is done sending, if later).
    public var lastSendAt: Double
    /// The longest wait for the last deliveries after the last send, in seconds.
    public var drainSeconds: Double
    /// User sockets' reconnects while sending, in order of time.
    public var reconnects: [PlannedReconnect]?

    /// The broadcasts one socket should get.
    public struct Expectation: Sendable, Codable {
        public var socket: Int
        public var count: Int
    }
}

/// What one socket of a worker received.
public struct SocketRecording: Sendable, Codable {
    public var index: Int
    /// The broadcasts, in order of arrival: their contents, `seq` numbers (-1 when the server does
    /// not number messages) and arrival times, as three lists (a smaller report than objects).
    public var contents: [String]
    public var seqs: [Int64]
    public var arrivals: [UInt64]
    public var errorFrames: [String: Int]
    /// How the connection ended before the worker closed it, if it did.
    public var endedEarly: LoadSocket.Ending?
    /// The messages the server told this socket it did not store.
    public var refused: [String]
    /// A user socket's: each message's chat (an index in its spec's `userChats`) and connection.
    public var chatIndexes: [Int]?
    public var connections: [Int]?
    /// A user socket's connections, acks, `resumed` frames, the sends made again after a
    /// reconnect, and the sends (`client_id`, chat index) with those never answered.
    public var userConnections: [LoadUserSocket.Connection]?
    public var acks: [LoadUserSocket.Ack]?
    public var resumed: [LoadUserSocket.Resumed]?
    public var retried: Int?
    public var clientIDs: [String]?
    public var unanswered: [String]?

    init(index: Int, socket: LoadSocket) {
        self.index = index
        let deliveries = socket.deliveries
        contents = deliveries.map(\.content)
        seqs = deliveries.map { $0.seq ?? -1 }
        arrivals = deliveries.map(\.at)
        errorFrames = socket.errorFrames
        endedEarly = socket.ending
        refused = socket.refused
    }

    init(index: Int, userSocket socket: LoadUserSocket) {
        self.index = index
        let deliveries = socket.deliveries
        contents = deliveries.map(\.content)
        seqs = deliveries.map { $0.seq ?? -1 }
        arrivals = deliveries.map(\.at)
        chatIndexes = deliveries.map(\.chat)
        connections = deliveries.map(\.connection)
        errorFrames = socket.errorFrames
        endedEarly = socket.ending
        refused = socket.refused
        userConnections = socket.connections
        acks = socket.acks
        resumed = socket.resumed
        retried = socket.retriedCount
        clientIDs = socket.sends.map(\.clientID)
        unanswered = socket.unansweredIDs
    }
}

/// Everything a worker recorded between the start and the end of its drain.
public struct WorkerRecording: Sendable, Codable {
    public var worker: Int
    /// When each of its sends went out: sequence numbers and ``MonotonicTime`` nanoseconds.
    public var sentSequences: [Int]
    public var sentAt: [UInt64]
    /// Messages not sent because their sender's socket had been closed by then.
    public var unsentSequences: [Int]
    public var sockets: [SocketRecording]
    /// Seconds from this worker's last send to the end of its drain.
    public var drainSeconds: Double
    /// Whether the drain ended at its deadline with broadcasts still missing.
    public var drainTimedOut: Bool
    /// The worker process's CPU over sending and drain.
    public var cpu: CPUUsage
}

/// One line a worker process writes on its standard output.
public enum WorkerMessage: Sendable, Codable {
    case ready(WorkerReady)
    /// About every second while sending and draining.
    case progress(sent: Int, received: Int)
    case done(WorkerRecording)
    /// The worker could not go on, and why.
    case failed(String)
}
