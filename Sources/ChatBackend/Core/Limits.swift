/// Every bound on input, in one place, so the documentation and the code cannot drift apart.
public enum Limits {
    /// Largest accepted REST request body.
    public static let requestBodyBytes = 64 * 1024
    /// Largest accepted WebSocket frame (and assembled message); bigger ones close the socket with 1009.
    public static let socketFrameBytes = 64 * 1024
    /// Longest chat message content, in characters; longer ones get an error frame.
    public static let messageCharacters = 4096
    /// Longest `client_id` of a send, its idempotency key (at least 1 character).
    public static let clientIDCharacters = 64
    /// Longest key (API token, confirmation key) a client may present; the server issues 40 characters.
    public static let keyCharacters = 256
    /// Longest Google ID token (a JWT) and access token accepted for Google sign-in.
    public static let googleIDTokenCharacters = 8192
    public static let googleAccessTokenCharacters = 4096
    /// Longest e-mail address.
    public static let emailCharacters = 254
    /// Longest username, as Django's.
    public static let usernameCharacters = 150
    /// Longest group chat name, as the original's model.
    public static let chatNameCharacters = 50
    /// Longest search phrase.
    public static let searchPhraseCharacters = 100
    /// Default and largest page size of paginated lists.
    public static let defaultPageSize = 8
    public static let maximumPageSize = 100
    /// Messages per `fetch_messages` page, as the original.
    public static let historyPageSize = 15
    /// The longest a throttled REST request is held before its 429 (less when the allowance comes
    /// back sooner): a client that ignores `Retry-After` is slowed to one refusal a second per connection.
    public static let throttledAnswerDelay = Duration.seconds(1)
    /// Password hashes (log-ins, registrations, password changes) waiting or running at once;
    /// beyond, a request is answered 503 with `Retry-After` at once.
    public static let pendingPasswordHashes = 16
    /// How long a socket waits at shutdown for the frames it is handling to finish, before it is
    /// closed with 1001 (its queued frames are written first).
    public static let shutdownDrain = Duration.seconds(5)
    /// How long `/readyz` waits for the database before calling it failing.
    public static let readinessCheck = Duration.seconds(2)
    /// Frames a socket may have queued (or written but not yet taken by the system) before it is
    /// cut off as too slow a reader: closed with 1008.
    public static let socketOutboundQueue = 1024
    /// Commands (`new_message`, `fetch_messages`) a socket may have waiting for the store; beyond,
    /// each is answered at once with an error frame saying it was not carried out and to send it
    /// again later. The socket goes on reading meanwhile, so its pongs are never stuck behind them.
    public static let socketPendingCommands = 64
    /// How long the server waits, after its close frame, for the client's before it ends the
    /// connection anyway (also when the client never reads the close frame).
    public static let socketCloseTimeout = Duration.seconds(10)

    // MARK: Connections

    /// Longest a kept-alive connection may sit between requests before the server closes it: an
    /// abandoned connection holds a file descriptor until then.
    public static let idleConnectionTimeout = Duration.seconds(60)
    /// Longest a client may take to send one request, head and body, from its first byte: a client
    /// trickling it (a byte every few seconds) is answered 408 and closed, so it cannot hold a
    /// connection open for free.
    public static let requestTimeout = Duration.seconds(20)
    /// Open connections (HTTP and sockets) from one client address; beyond it a new connection is
    /// closed as soon as it is accepted. High enough for many users behind one NAT.
    public static let connectionsPerAddress = 1024
    /// Open connections in all; beyond it a new connection is closed as soon as it is accepted. The
    /// process may open 20,000 files: the rest is kept for the database, Redis and the server itself.
    public static let connections = 16_384
    /// A socket is pinged at this interval, and closed with 1001 when a ping's pong has not come
    /// back within one interval: a peer that vanished without closing is noticed.
    public static let socketPingInterval = Duration.seconds(30)
    /// Messages a `resume` replays per chat at most; beyond it the newest are sent, marked
    /// `truncated`, and the client pages back with `history`.
    public static let resumeMessages = 500
    /// Chats one `resume` may name (a user's chats are fewer; more is a mistake or an attack).
    public static let resumeChats = 1000
    /// The most messages one user-socket `history` answer holds.
    public static let userHistoryPage = 100
    /// A user's `typing` frames per chat are passed on at most once per this interval.
    public static let typingInterval = Duration.seconds(2)
    /// How long a user counts as online after their last socket closed: a reconnect within it
    /// says nothing to their friends.
    public static let presenceGrace = Duration.seconds(5)
}
