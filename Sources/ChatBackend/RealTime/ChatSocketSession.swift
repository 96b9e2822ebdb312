import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization

/// What the HTTP floor hands a socket session besides the WebSocket itself: the wire its frames
/// go out on, the shutdown signal, and the socket's bounds.
struct SocketConnection: Sendable {
    let wire: any SocketWire
    /// Fires when the server starts shutting down, so the session can drain and close with 1001.
    let shutdown: ShutdownSignal
    /// See ``Limits/socketOutboundQueue``.
    let outboundQueue: Int
    /// See ``Limits/socketPendingCommands``.
    let pendingCommands: Int
    /// See ``Limits/socketCloseTimeout``.
    let closeTimeout: Duration
}

/// One open chat socket: reads the client's commands, answers them, and forwards the chat's
/// broadcasts, all through one bounded outbound queue written straight onto the connection.
///
/// Why the reader never waits for the store: WSCore handles a ping's pong only when the reader
/// asks for the next frame. When this session awaited each `new_message`'s commit before reading
/// on, a saturated store held the client's pong behind its own queued frames; after one ping
/// interval without a pong WSCore wrote a close frame behind the queued writes and closed the
/// channel at once, so the close frame was dropped with them and the client saw its connection
/// end with no close frame (the server stopped, not the client: the client side does not ping).
/// Now the reader hands commands to a bounded queue (``CommandQueue``) served one at a time, in
/// order, and answers at once when it is full: "not stored, send it again later".
struct ChatSocketSession {
    /// Who opened the socket, with the token checked again as frames come.
    let caller: Caller
    let chat: Chat
    /// How long an authorization check holds before the next command checks again.
    let reauthorizationInterval: Duration
    let authenticator: Authenticator
    let store: ChatStore
    let channelLayer: any ChannelLayer
    let hub: ChatHub
    /// The sender's allowance of messages; nil: unlimited.
    let messageLimiter: RateLimiter?
    /// Counts the messages stored.
    let metrics: DeliveryMetrics
    let logger: Logger

    private var user: User { caller.user }

    /// A command accepted from the client, waiting for the store.
    enum Command: Sendable {
        case fetchMessages(HistoryCursor?)
        case newMessage(String)

        /// The answer when it cannot be carried out: what the client should do (and which message
        /// was not stored).
        var refusal: String {
            switch self {
            case .newMessage(let content):
                SocketFrameError("the message was not stored: the server is busy; send it again later").refusing(content).frame
            case .fetchMessages:
                SocketFrameError("could not read the history now: the server is busy; ask again later").frame
            }
        }

        /// The answer when the server shuts down before carrying it out.
        var shutdownRefusal: String {
            let error = SocketFrameError("the server is shutting down: send it again once reconnected")
            switch self {
            case .newMessage(let content): return error.refusing(content).frame
            case .fetchMessages: return error.frame
            }
        }
    }

    /// Serves the socket until the client leaves, the token is revoked, the client reads too
    /// slowly, or the server shuts down.
    ///
    /// On shutdown nothing acknowledged is lost: new frames are refused (not stored), the commands
    /// accepted finish, the sender's own broadcasts get time to come back, every queued frame is
    /// written, and then the socket is closed with 1001.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, connection: SocketConnection) async {
        let outbox = SocketOutbox(capacity: connection.outboundQueue, wire: connection.wire)
        let state = SessionState()
        let closer = Closer(outbox: outbox, outbound: outbound, state: state, connection: connection, logger: logger)
        let commands = CommandQueue<Command>(capacity: connection.pendingCommands) { command in
            await serve(command, outbox: outbox, state: state, closer: closer)
        }
        closer.commands.withLock { $0 = commands }
        // The queue's server holds the closer, which holds the queue: let go when the socket ends.
        defer { closer.commands.withLock { $0 = nil } }
        let socketID = hub.join(chatID: chat.id, userID: user.id, tokenDigest: caller.tokenDigest, position: chat.lastSeq, outbox: outbox) { cutOff in
            switch cutOff {
            case .overflow: closer.close(.policyViolation, "outbound queue full: read faster", dropQueued: true)
            case .revoked: closer.close(.policyViolation, "token revoked or no longer a participant", dropQueued: false)
            }
        }
        defer { hub.leave(chatID: chat.id, socketID: socketID) }
        connection.shutdown.onFire { [hub, chat] in
            Task {
                await Self.drain(commands: commands, state: state, closer: closer) { seq in hub.hasDelivered(chatID: chat.id, seq: seq) }
            }
        }
        defer { connection.shutdown.onFire(nil) }

        do {
            for try await message in inbound.messages(maxSize: Limits.socketFrameBytes) {
                switch state.phase {
                case .open:
                    receive(message, outbox: outbox, commands: commands)
                case .draining:
                    outbox.offer(SocketFrameError("the server is shutting down: send it again once reconnected").frame)
                case .closing:
                    continue
                }
            }
        } catch {
            logger.debug("socket read ended", metadata: ["error": "\(error)"])
        }
        // The client left (or the connection ended): what waits is for nobody.
        commands.close()
        outbox.close(dropQueued: true) {}
    }

    /// Answers what needs no store at once, and queues the rest.
    private func receive(_ message: WebSocketMessage, outbox: SocketOutbox, commands: CommandQueue<Command>) {
        guard case .text(let text) = message else {
            outbox.offer(SocketFrameError("binary frames are not supported: send JSON text").frame)
            return
        }
        let command: Command
        switch ClientCommand.parse(text) {
        case .failure(let error):
            outbox.offer(error.frame)
            return
        case .success(.fetchMessages(let cursor)):
            command = .fetchMessages(cursor)
        case .success(.newMessage(let content)):
            if let wait = messageLimiter?.take("user \(user.id)") {
                outbox.offer(SocketFrameError.rateLimited(retryAfter: wait).refusing(content).frame)
                return
            }
            command = .newMessage(content)
        }
        if !commands.submit(command) {
            outbox.offer(command.refusal)
        }
    }

    /// At shutdown: refuse new frames, let the commands accepted finish and their broadcasts come
    /// back, then write the queue and close with 1001.
    private static func drain(
        commands: CommandQueue<Command>, state: SessionState, closer: Closer, delivered: @Sendable (Int64) -> Bool
    ) async {
        guard state.startDraining() else { return }
        // Commands still waiting are refused, not carried out (the client sends them again once
        // reconnected): only the one in hand finishes, so the drain does not last as long as the
        // whole queue takes to store.
        for command in commands.close() { closer.outbox.offer(command.shutdownRefusal) }
        let deadline = ContinuousClock.now + Limits.shutdownDrain
        while commands.isBusy, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        // The sender's own messages come back through the channel layer (through Redis, across
        // nodes): wait until the newest it stored has been handed to the chat's sockets here.
        while !delivered(state.newestStoredSeq), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        closer.close(.goingAway, "server shutting down", dropQueued: false)
    }

    /// Carries out one queued command, after checking the token again if its check is due.
    private func serve(_ command: Command, outbox: SocketOutbox, state: SessionState, closer: Closer) async {
        guard state.phase != .closing else { return }
        if state.authorizationIsDue(every: reauthorizationInterval) {
            // The token (or the membership) may have been revoked on another node since the last check.
            guard await isStillAuthorized() else {
                closer.close(.policyViolation, "token revoked or no longer a participant", dropQueued: false)
                return
            }
            state.authorized()
        }
        switch command {
        case .fetchMessages(let cursor):
            do {
                let page = try await store.messages(chatID: chat.id, before: cursor, limit: Limits.historyPageSize)
                outbox.offer(ServerFrame.history(page, requested: cursor, pageSize: Limits.historyPageSize))
            } catch {
                logger.error("fetch_messages failed", metadata: ["error": "\(error)"])
                outbox.offer(SocketFrameError("could not read the history; try again").frame)
            }
        case .newMessage(let content):
            await post(content, outbox: outbox, state: state)
        }
    }

    /// Whether the socket's token still names its user, and the user still takes part in the chat.
    private func isStillAuthorized() async -> Bool {
        do {
            guard let current = try await authenticator.caller(tokenDigest: caller.tokenDigest), current.user.id == user.id else {
                return false
            }
            return try await store.isParticipant(userID: user.id, chatID: chat.id)
        } catch {
            // The database is unreachable: keep the socket; the message itself will fail and say so.
            return true
        }
    }

    /// Stores the message, then publishes it, in the chat's order.
    private func post(_ content: String, outbox: SocketOutbox, state: SessionState) async {
        let (chatID, channelLayer, logger) = (chat.id, self.channelLayer, self.logger)
        do {
            let message = try await store.addMessage(chatID: chat.id, authorID: user.id, content: content) { [metrics] message in
                metrics.messagesStored.increment()
                do {
                    try await channelLayer.publish(chatID: chatID, seq: message.seq, frame: ServerFrame.newMessage(message))
                } catch {
                    // Committed already: readers catch up with fetch_messages.
                    logger.warning("publishing a stored message failed", metadata: ["error": "\(error)", "message": "\(message.id)"])
                }
            }
            state.stored(seq: message.seq)
        } catch {
            logger.error("storing a message failed", metadata: ["error": "\(error)"])
            outbox.offer(SocketFrameError("the message was not stored; send it again").refusing(content).frame)
        }
    }
}

/// Closes a socket from the server's side, once, whoever decides first: answers the commands still
/// waiting (not carried out), writes the queue (or drops it, for a client too far behind), then the
/// close frame, and ends the connection after the close timeout if the client has not by then.
private final class Closer: Sendable {
    let outbox: SocketOutbox
    let outbound: WebSocketOutboundWriter
    let state: SessionState
    let connection: SocketConnection
    let logger: Logger
    /// Set once, right after the queue is made (the queue's server needs this closer).
    let commands = Mutex<CommandQueue<ChatSocketSession.Command>?>(nil)

    init(outbox: SocketOutbox, outbound: WebSocketOutboundWriter, state: SessionState, connection: SocketConnection, logger: Logger) {
        self.outbox = outbox
        self.outbound = outbound
        self.state = state
        self.connection = connection
        self.logger = logger
    }

    func close(_ code: WebSocketErrorCode, _ reason: String, dropQueued: Bool) {
        guard state.startClosing() else { return }
        logger.debug("closing a socket", metadata: ["reason": "\(reason)"])
        let waiting = commands.withLock { $0 }?.close() ?? []
        if !dropQueued {
            for command in waiting { outbox.offer(command.refusal) }
        }
        let (outbound, wire, closeTimeout) = (self.outbound, connection.wire, connection.closeTimeout)
        outbox.close(dropQueued: dropQueued) {
            // After the frames written before it. WSCore's writer may hold the close frame until
            // the client reads again; the connection ends at the close timeout whatever happens.
            Task { try? await outbound.close(code, reason: reason) }
            wire.closeConnection(after: closeTimeout)
        }
    }
}

/// Where a socket is in its life, shared by its reader, its command queue's server, its closer
/// and its shutdown drain; and when its token was last checked.
private final class SessionState: Sendable {
    enum Phase: Equatable {
        case open
        /// The server is shutting down: frames are refused, the commands accepted finish.
        case draining
        /// The server is closing the socket: nothing more is carried out.
        case closing
    }

    private struct Fields {
        var phase = Phase.open
        var authorizedAt = ContinuousClock.now
        var newestStoredSeq: Int64 = 0
    }

    private let fields = Mutex(Fields())

    var phase: Phase { fields.withLock { $0.phase } }

    /// False if the socket is already draining or closing.
    func startDraining() -> Bool {
        fields.withLock {
            guard $0.phase == .open else { return false }
            $0.phase = .draining
            return true
        }
    }

    /// False if the socket is already closing.
    func startClosing() -> Bool {
        fields.withLock {
            guard $0.phase != .closing else { return false }
            $0.phase = .closing
            return true
        }
    }

    func authorizationIsDue(every interval: Duration) -> Bool {
        fields.withLock { ContinuousClock.now - $0.authorizedAt >= interval }
    }

    func authorized() {
        fields.withLock { $0.authorizedAt = .now }
    }

    /// The `seq` of the newest message this socket stored (0: none).
    var newestStoredSeq: Int64 { fields.withLock { $0.newestStoredSeq } }

    func stored(seq: Int64) {
        fields.withLock { $0.newestStoredSeq = max($0.newestStoredSeq, seq) }
    }
}
