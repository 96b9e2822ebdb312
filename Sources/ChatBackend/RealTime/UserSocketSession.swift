import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization

/// One open user socket, `/ws/` (PROTOCOL.md): every chat of its user live on one connection,
/// acknowledged idempotent sends, resume without gap or repeat, history, edits and deletes,
/// typing, read markers, chat events and presence.
///
/// Like a chat socket, the reader never waits for the store: commands that touch it go to a
/// bounded queue served one at a time, in order, and the answer is "busy" when it is full. What
/// the socket is sent of its chats' messages is the ``UserSocketFeed``'s to decide.
struct UserSocketSession {
    let caller: Caller
    /// How long an authorization check holds before the next command checks again.
    let reauthorizationInterval: Duration
    let authenticator: Authenticator
    let store: ChatStore
    let channelLayer: any ChannelLayer
    let hub: ChatHub
    /// The sender's allowance of messages; nil: unlimited.
    let messageLimiter: RateLimiter?
    let metrics: DeliveryMetrics
    /// Where edits, deletes and read markers are announced.
    let events: ChatEventSink
    let logger: Logger

    private var user: User { caller.user }

    /// A command accepted from the client, waiting for the store. Each names its chat, which the
    /// user was in when the frame came.
    enum Command: SocketCommand {
        case send(chatID: Int64, chat: UUID, clientID: String, content: String)
        case history(chatID: Int64, chat: UUID, beforeSeq: Int64?, limit: Int)
        case edit(chatID: Int64, chat: UUID, id: Int64, content: String)
        case delete(chatID: Int64, chat: UUID, id: Int64)
        case read(chatID: Int64, chat: UUID, seq: Int64)
        case typing(chatID: Int64, chat: UUID)

        var refusal: String { error("the server is busy: send it again later").frame }
        var storesMessage: Bool {
            if case .send = self { true } else { false }
        }
        var shutdownRefusal: String { error("the server is shutting down: send it again once reconnected").frame }

        /// An error about this command, naming its chat (and its `client_id`, for a send).
        func error(_ reason: String) -> UserFrameError {
            switch self {
            case .send(_, let chat, let clientID, _): UserFrameError(reason, clientID: clientID, chat: chat)
            case .history(_, let chat, _, _), .edit(_, let chat, _, _), .delete(_, let chat, _), .read(_, let chat, _),
                .typing(_, let chat):
                UserFrameError(reason, chat: chat)
            }
        }
    }

    /// Serves the socket until the client leaves, the token is revoked, the client reads too
    /// slowly, or the server shuts down.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, connection: SocketConnection) async {
        let outbox = SocketOutbox(capacity: connection.outboundQueue, wire: connection.wire)
        let state = SessionState()
        let closer = Closer<Command>(outbox: outbox, outbound: outbound, state: state, connection: connection, logger: logger)
        let feed = UserSocketFeed(userID: user.id, tokenDigest: caller.tokenDigest, outbox: outbox) {
            closer.close(.policyViolation, "outbound queue full: read faster", dropQueued: true)
        }
        let commands = CommandQueue<Command>(capacity: connection.pendingCommands) { commands in
            await serve(commands, feed: feed, state: state, closer: closer)
        }
        closer.commands.withLock { $0 = commands }
        defer { closer.commands.withLock { $0 = nil } }

        let socketID = hub.newSocketID()
        let cutOff: @Sendable (ChatHub.CutOff) -> Void = { cutOff in
            switch cutOff {
            case .overflow: closer.close(.policyViolation, "outbound queue full: read faster", dropQueued: true)
            case .revoked: closer.close(.policyViolation, "token revoked", dropQueued: false)
            }
        }
        let firstOnNode = hub.joinUser(id: socketID, feed: feed, events: { [hub] event in
            Self.apply(event, feed: feed, socketID: socketID, hub: hub, cutOff: cutOff)
        }, cutOff: cutOff)
        let fills = Task { [store, logger] in await feed.serveFills(store: store, logger: logger) }
        defer {
            feed.finish()
            fills.cancel()
            if hub.leaveUser(socketID: socketID, feed: feed) { announceOfflineAfterGrace() }
        }
        connection.shutdown.onFire { Task { await drainSocket(commands: commands, state: state, closer: closer) { _ in true } } }
        defer { connection.shutdown.onFire(nil) }

        do {
            try await start(feed: feed, socketID: socketID, firstOnNode: firstOnNode, cutOff: cutOff)
        } catch {
            logger.error("opening a user socket failed", metadata: ["error": "\(error)"])
            closer.close(.unexpectedServerError, "could not read your chats; connect again", dropQueued: false)
        }
        let typing = TypingThrottle()
        do {
            var first = true
            for try await message in inbound.messages(maxSize: Limits.socketFrameBytes) {
                switch state.phase {
                case .open:
                    receive(message, first: first, feed: feed, typing: typing, commands: commands)
                    first = false
                case .draining:
                    feed.send(Self.shutdownRefusal(of: message).frame)
                case .closing:
                    continue
                }
            }
        } catch {
            logger.debug("socket read ended", metadata: ["error": "\(error)"])
        }
        commands.close()
        outbox.close(dropQueued: true) {}
    }

    /// Follows every chat of the user, sends `hello`, and tells the user's friends they are online.
    private func start(feed: UserSocketFeed, socketID: Int, firstOnNode: Bool, cutOff: @escaping @Sendable (ChatHub.CutOff) -> Void) async throws {
        let chats = try await store.chatsWithReadStates(of: user.id)
        for (chat, state) in chats {
            hub.follow(chatID: chat.id, socketID: socketID, feed: feed, position: state.lastSeq, cutOff: cutOff)
            feed.follow(chatID: chat.id, uuid: chat.uuid, position: state.lastSeq)
        }
        // What was committed between reading the chats and joining the hub is read once the
        // client's first frame starts the feed.
        for (chatID, state) in try await store.readStates(userID: user.id, chatIDs: chats.map(\.chat.id)) {
            feed.noteCommitted(chatID: chatID, seq: state.lastSeq)
        }
        let friends = try await store.friendIdentities(of: user.id)
        let online = Set(hub.online(among: friends.map(\.id)))
        feed.open(hello: UserFrame.hello(
            user: user.uuid, chats: chats.map { ($0.chat.uuid, $0.state) }, online: friends.filter { online.contains($0.id) }.map(\.uuid)
        ))
        if firstOnNode { await announcePresence(online: true, friends: friends.map(\.id)) }
    }

    /// What an event does to this socket besides its frame: a chat joined is followed from the
    /// position it names (after the frame, so `added` comes before the chat's messages); a chat
    /// left stops at once.
    private static func apply(
        _ event: UserSocketEvent, feed: UserSocketFeed, socketID: Int, hub: ChatHub, cutOff: @escaping @Sendable (ChatHub.CutOff) -> Void
    ) {
        switch event.effect {
        case .joined(let chatID, let chatUUID, let position):
            feed.send(event.frame)
            hub.follow(chatID: chatID, socketID: socketID, feed: feed, position: position, cutOff: cutOff)
            feed.follow(chatID: chatID, uuid: chatUUID, position: position)
        case .left(let chatID):
            feed.unfollow(chatID: chatID)
            hub.unfollow(chatID: chatID, socketID: socketID)
            feed.send(event.frame)
        case .none, .presence:
            feed.send(event.frame)
        }
    }

    // MARK: Frames from the client

    /// Answers what needs no store at once, and queues the rest. The first frame starts the
    /// feed: from the positions a `resume` names, or else from `hello`'s.
    private func receive(_ message: WebSocketMessage, first: Bool, feed: UserSocketFeed, typing: TypingThrottle, commands: CommandQueue<Command>) {
        guard case .text(let text) = message else {
            if first { feed.start() }
            feed.send(UserFrameError("binary frames are not supported: send JSON text").frame)
            return
        }
        let parsed = UserCommand.parse(text)
        if case .success(.resume(let positions)) = parsed {
            for unknown in feed.start(resume: positions) {
                feed.send(UserFrameError("you do not take part in this chat", chat: unknown).frame)
            }
            return
        }
        if first { feed.start() }
        switch parsed {
        case .failure(let error):
            feed.send(error.frame)
        case .success(.ping):
            feed.send(UserFrame.pong)
        case .success(let command):
            guard let uuid = command.chat, let chatID = feed.chatID(of: uuid) else {
                let clientID: String? = if case .send(_, let clientID, _) = command { clientID } else { nil }
                feed.send(UserFrameError("you do not take part in this chat", clientID: clientID, chat: command.chat).frame)
                return
            }
            guard let queued = queuedCommand(command, chatID: chatID, feed: feed, typing: typing) else { return }
            if !commands.submit(queued) { feed.send(queued.refusal) }
        }
    }

    /// The answer to a frame that comes while the socket drains at shutdown: refused, naming the
    /// send's `client_id` and chat as every error about a send does (PROTOCOL.md), so the client
    /// knows which to send again once reconnected.
    private static func shutdownRefusal(of message: WebSocketMessage) -> UserFrameError {
        let reason = "the server is shutting down: send it again once reconnected"
        guard case .text(let text) = message else { return UserFrameError(reason) }
        switch UserCommand.parse(text) {
        case .success(.send(let chat, let clientID, _)): return UserFrameError(reason, clientID: clientID, chat: chat)
        case .success(let command): return UserFrameError(reason, chat: command.chat)
        case .failure(let error): return UserFrameError(reason, clientID: error.clientID, chat: error.chat)
        }
    }

    /// The queued form of a command about a chat the user is in; nil when it is answered or
    /// dropped here (over the message allowance, a typing repeat).
    private func queuedCommand(_ command: UserCommand, chatID: Int64, feed: UserSocketFeed, typing: TypingThrottle) -> Command? {
        switch command {
        case .send(let chat, let clientID, let content):
            if let wait = messageLimiter?.take("user \(user.id)") {
                var error = UserFrameError("rate_limited", clientID: clientID, chat: chat)
                error.retryAfter = SocketFrameError.rateLimited(retryAfter: wait).retryAfter
                feed.send(error.frame)
                return nil
            }
            return .send(chatID: chatID, chat: chat, clientID: clientID, content: content)
        case .history(let chat, let beforeSeq, let limit): return .history(chatID: chatID, chat: chat, beforeSeq: beforeSeq, limit: limit)
        case .edit(let chat, let id, let content): return .edit(chatID: chatID, chat: chat, id: id, content: content)
        case .delete(let chat, let id): return .delete(chatID: chatID, chat: chat, id: id)
        case .read(let chat, let seq): return .read(chatID: chatID, chat: chat, seq: seq)
        case .typing(let chat): return typing.admits(chatID) ? .typing(chatID: chatID, chat: chat) : nil
        case .resume, .ping: return nil
        }
    }

    // MARK: Carrying commands out

    /// Carries out a queued command, or a run of sends, after checking the token again if its
    /// check is due.
    private func serve(_ commands: [Command], feed: UserSocketFeed, state: SessionState, closer: Closer<Command>) async {
        guard state.phase != .closing, let first = commands.first else { return }
        guard await state.isAuthorized(every: reauthorizationInterval, check: isStillAuthorized) else {
            closer.close(.policyViolation, "token revoked", dropQueued: false)
            return
        }
        guard !first.storesMessage else { return await send(commands, feed: feed) }
        do {
            try await carryOut(first, feed: feed)
        } catch {
            feed.send(answer(to: first, failure: error))
        }
    }

    /// What the client is told of a command that failed.
    private func answer(to command: Command, failure: any Error) -> String {
        switch failure {
        case let refusal as MessageChangeRefusal:
            return command.error(Self.reason(refusal)).frame
        case ReadMarkerRefusal.beyondLastSeq(let lastSeq):
            return command.error("seq is beyond the chat's last seq, \(lastSeq)").frame
        case ReadMarkerRefusal.notParticipant:
            return command.error("you do not take part in this chat").frame
        default:
            logger.error("a user socket command failed", metadata: ["error": "\(failure)"])
            if command.storesMessage { return command.error("the message was not stored; send it again").frame }
            return command.error("could not carry this out now; try again").frame
        }
    }

    /// Stores a run of sends together, publishing each in the chat's order, and acknowledges each
    /// in turn.
    private func send(_ commands: [Command], feed: UserSocketFeed) async {
        let (authorUUID, channelLayer, metrics, logger) = (user.uuid, self.channelLayer, self.metrics, self.logger)
        let sends = commands.compactMap { command -> (command: Command, chat: UUID, send: MessageWriter.Send)? in
            guard case .send(let chatID, let chat, let clientID, let content) = command else { return nil }
            let send = MessageWriter.Send(chatID: chatID, authorID: user.id, content: content, clientID: clientID) { message in
                await channelLayer.publishNewMessage(message, chatUUID: chat, authorUUID: authorUUID, metrics: metrics, logger: logger)
            }
            return (command, chat, send)
        }
        let results = await store.addMessages(sends.map(\.send))
        for (sent, result) in zip(sends, results) {
            switch result {
            case .success(let stored): feed.send(UserFrame.ack(stored.message, chat: sent.chat))
            case .failure(let error): feed.send(answer(to: sent.command, failure: error))
            }
        }
    }

    private func carryOut(_ command: Command, feed: UserSocketFeed) async throws {
        switch command {
        case .send:
            await send([command], feed: feed)
        case .history(let chatID, let chat, let beforeSeq, let limit):
            let page = try await store.messages(chatID: chatID, before: beforeSeq.map(HistoryCursor.seq), limit: limit + 1)
            feed.send(UserFrame.history(chat: chat, messages: Array(page.prefix(limit)), more: page.count > limit))
        case .edit(let chatID, let chat, let id, let content):
            let message = try await store.editMessage(chatID: chatID, messageID: id, editorID: user.id, content: content)
            await events.announce(.edited(chat: try await known(chat), message: message))
        case .delete(let chatID, let chat, let id):
            let message = try await store.deleteMessage(chatID: chatID, messageID: id, deleterID: user.id)
            await events.announce(.deleted(chat: try await known(chat), message: message))
        case .read(let chatID, let chat, let seq):
            let state = try await store.markRead(chatID: chatID, userID: user.id, seq: seq)
            await events.announce(.read(chat: try await known(chat), userUUID: user.uuid, seq: state.readSeq))
        case .typing(let chatID, let chat):
            try await channelLayer.publish(UserSocketEvent(audience: .chat(chatID, excludingUser: user.id), frame: UserFrame.typing(chat: chat, user: user.uuid)))
        }
    }

    /// The chat of a command carried out (it existed a moment ago).
    private func known(_ uuid: UUID) async throws -> Chat {
        guard let chat = try await store.chat(uuid: uuid) else { throw MessageChangeRefusal.notFound }
        return chat
    }

    private static func reason(_ refusal: MessageChangeRefusal) -> String {
        switch refusal {
        case .notFound: "no message with this id in this chat"
        case .notParticipant: "you do not take part in this chat"
        case .notPermitted: "only the message's author (or, to delete, the group's creator) may do this"
        case .deleted: "the message was deleted"
        }
    }

    /// Whether the socket's token still names its user. An unreachable database keeps the socket:
    /// the commands themselves fail and say so.
    private func isStillAuthorized() async -> Bool {
        (try? await authenticator.stillNames(caller)) ?? true
    }

    // MARK: Presence

    private func announcePresence(online: Bool, friends: [Int64]) async {
        let event = UserSocketEvent(
            audience: .users(friends), frame: UserFrame.presence(user: user.uuid, online: online),
            effect: .presence(userID: user.id, node: hub.nodeID, online: online)
        )
        do {
            try await channelLayer.publish(event)
        } catch {
            logger.warning("announcing presence failed", metadata: ["error": "\(error)"])
        }
    }

    /// The user's last socket here closed: offline, unless one opens again within the grace.
    private func announceOfflineAfterGrace() {
        Task { [hub, store, user] in
            try? await Task.sleep(for: Limits.presenceGrace)
            guard !hub.hasUserSocket(userID: user.id) else { return }
            let friends = (try? await store.friendIdentities(of: user.id).map(\.id)) ?? []
            await announcePresence(online: false, friends: friends)
        }
    }
}

/// Lets a user's `typing` through at most once per ``Limits/typingInterval`` per chat.
private final class TypingThrottle: Sendable {
    private let last = Mutex<[Int64: ContinuousClock.Instant]>([:])

    func admits(_ chatID: Int64) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let previous = last[chatID], now - previous < Limits.typingInterval { return false }
            last[chatID] = now
            return true
        }
    }
}
