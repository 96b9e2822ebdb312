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
/// Now the reader hands commands to a bounded queue (``CommandQueue``) served in order (messages
/// that come together stored together), and answers at once when it is full: "not stored, send it
/// again later".
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
    enum Command: SocketCommand {
        case fetchMessages(HistoryCursor?)
        case newMessage(String)

        var storesMessage: Bool {
            if case .newMessage = self { true } else { false }
        }

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
        let closer = Closer<Command>(outbox: outbox, outbound: outbound, state: state, connection: connection, logger: logger)
        let commands = CommandQueue<Command>(capacity: connection.pendingCommands) { commands in
            await serve(commands, outbox: outbox, state: state, closer: closer)
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
                await drainSocket(commands: commands, state: state, closer: closer) { seq in hub.hasDelivered(chatID: chat.id, seq: seq) }
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

    /// Carries out a queued command, or a run of messages, after checking the token again if its
    /// check is due.
    private func serve(_ commands: [Command], outbox: SocketOutbox, state: SessionState, closer: Closer<Command>) async {
        guard state.phase != .closing, let first = commands.first else { return }
        guard await state.isAuthorized(every: reauthorizationInterval, check: isStillAuthorized) else {
            closer.close(.policyViolation, "token revoked or no longer a participant", dropQueued: false)
            return
        }
        guard case .fetchMessages(let cursor) = first else { return await post(commands, outbox: outbox, state: state) }
        do {
            let page = try await store.messages(chatID: chat.id, before: cursor, limit: Limits.historyPageSize)
            outbox.offer(ServerFrame.history(page, requested: cursor, pageSize: Limits.historyPageSize))
        } catch {
            logger.error("fetch_messages failed", metadata: ["error": "\(error)"])
            outbox.offer(SocketFrameError("could not read the history; try again").frame)
        }
    }

    /// Whether the socket's token still names its user, and the user still takes part in the chat.
    private func isStillAuthorized() async -> Bool {
        do {
            guard try await authenticator.stillNames(caller) else { return false }
            return try await store.isParticipant(userID: user.id, chatID: chat.id)
        } catch {
            // The database is unreachable: keep the socket, and ask it once, not twice (each try
            // waits out a deadline); the message itself fails and says so.
            return true
        }
    }

    /// Stores a run of messages together, then publishes each, in the chat's order.
    private func post(_ commands: [Command], outbox: SocketOutbox, state: SessionState) async {
        let (chatUUID, authorUUID, channelLayer, metrics, logger) = (chat.uuid, user.uuid, self.channelLayer, self.metrics, self.logger)
        let contents = commands.compactMap { command -> String? in
            if case .newMessage(let content) = command { content } else { nil }
        }
        let sends = contents.map { content in
            MessageWriter.Send(chatID: chat.id, authorID: user.id, content: content, clientID: nil) { message in
                await channelLayer.publishNewMessage(message, chatUUID: chatUUID, authorUUID: authorUUID, metrics: metrics, logger: logger)
            }
        }
        for (content, result) in zip(contents, await store.addMessages(sends)) {
            switch result {
            case .success(let stored):
                state.stored(seq: stored.message.seq)
            case .failure(let error):
                logger.error("storing a message failed", metadata: ["error": "\(error)"])
                outbox.offer(SocketFrameError("the message was not stored; send it again").refusing(content).frame)
            }
        }
    }
}
