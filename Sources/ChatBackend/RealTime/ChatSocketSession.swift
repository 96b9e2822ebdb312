import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization

/// One open chat socket: reads the client's commands, answers them, and forwards the chat's
/// broadcasts, all through one bounded outbound queue so a single task writes to the socket.
struct ChatSocketSession {
    /// Who opened the socket, with the token checked again as frames come.
    let caller: Caller
    let chat: Chat
    /// How long an authorization check holds before the next frame checks again.
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

    /// Serves the socket until the client leaves, the token is revoked, the client reads too
    /// slowly, or the server shuts down.
    ///
    /// On shutdown nothing acknowledged is lost: new frames are refused (not stored), the frames
    /// being handled finish, the sender's own broadcasts get time to come back, every queued frame is
    /// written, and then the socket is closed with 1001.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, shutdown: ShutdownSignal) async {
        let (frames, outbox) = AsyncStream<OutboundFrame>.makeStream(bufferingPolicy: .bufferingOldest(Limits.socketOutboundQueue))
        let state = SessionState()
        let socketID = hub.join(chatID: chat.id, userID: user.id, tokenDigest: caller.tokenDigest, position: chat.lastSeq, outbox: outbox) { cutOff in
            switch cutOff {
            case .overflow: state.close(.policyViolation, "outbound queue full: read faster")
            case .revoked: state.close(.policyViolation, "token revoked")
            }
            outbox.finish()
        }
        defer { hub.leave(chatID: chat.id, socketID: socketID) }

        await withTaskGroup(of: Void.self) { lifetime in
            lifetime.addTask { await drain(on: shutdown, state: state, outbox: outbox) }
            await withTaskGroup(of: Void.self) { socket in
                socket.addTask { await write(frames, to: outbound, state: state) }
                socket.addTask { await read(inbound, state: state, outbox: outbox) }
                await socket.waitForAll()
            }
            lifetime.cancelAll()
        }
    }

    /// Writes queued frames until the queue is finished, then closes with the reason, if any.
    private func write(_ frames: AsyncStream<OutboundFrame>, to outbound: WebSocketOutboundWriter, state: SessionState) async {
        for await frame in frames {
            do { try await outbound.write(.text(frame.text)) } catch { break }
            frame.fanOut?.done()
        }
        if let (code, reason) = state.closeReason {
            logger.debug("closing a socket", metadata: ["user": "\(user.id)", "chat": "\(chat.id)", "reason": "\(reason)"])
            try? await outbound.close(code, reason: reason)
        }
    }

    /// Reads and answers the client's frames until it leaves or the socket is closed.
    private func read(_ inbound: WebSocketInboundStream, state: SessionState, outbox: ChatHub.Outbox) async {
        do {
            var checkedAt = ContinuousClock.now
            for try await message in inbound.messages(maxSize: Limits.socketFrameBytes) {
                guard state.beginHandling() else {
                    outbox.yield(SocketFrameError("the server is shutting down: send it again once reconnected").frame)
                    continue
                }
                defer { state.endHandling() }
                // The token (or the membership) may have been revoked on another node since the last check.
                if ContinuousClock.now - checkedAt >= reauthorizationInterval {
                    guard await isStillAuthorized() else {
                        state.close(.policyViolation, "token revoked or no longer a participant")
                        break
                    }
                    checkedAt = .now
                }
                await handle(message, outbox: outbox)
            }
        } catch {
            logger.debug("socket read ended", metadata: ["error": "\(error)"])
        }
        outbox.finish()
    }

    /// At shutdown: refuse new frames, let those in hand finish and their broadcasts come back,
    /// then let the writer empty the queue and close with 1001.
    private func drain(on shutdown: ShutdownSignal, state: SessionState, outbox: ChatHub.Outbox) async {
        await shutdown.wait()
        guard !Task.isCancelled else { return }
        state.stopAccepting()
        let deadline = ContinuousClock.now + Limits.shutdownDrain
        while state.isHandling, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await Task.sleep(for: channelLayer.deliveryDelay)
        state.close(.goingAway, "server shutting down")
        outbox.finish()
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

    private func handle(_ message: WebSocketMessage, outbox: ChatHub.Outbox) async {
        guard case .text(let text) = message else {
            outbox.yield(SocketFrameError("binary frames are not supported: send JSON text").frame)
            return
        }
        switch ClientCommand.parse(text) {
        case .failure(let error):
            outbox.yield(error.frame)
        case .success(.fetchMessages(let cursor)):
            do {
                let page = try await store.messages(chatID: chat.id, before: cursor, limit: Limits.historyPageSize)
                outbox.yield(ServerFrame.history(page, requested: cursor, pageSize: Limits.historyPageSize))
            } catch {
                logger.error("fetch_messages failed", metadata: ["error": "\(error)"])
                outbox.yield(SocketFrameError("could not read the history; try again").frame)
            }
        case .success(.newMessage(let content)):
            if let wait = messageLimiter?.take("user \(user.id)") {
                outbox.yield(SocketFrameError.rateLimited(retryAfter: wait).frame)
                return
            }
            await post(content, outbox: outbox)
        }
    }

    /// Stores the message, then publishes it, in the chat's order.
    private func post(_ content: String, outbox: ChatHub.Outbox) async {
        let (chatID, channelLayer, logger) = (chat.id, self.channelLayer, self.logger)
        do {
            _ = try await store.addMessage(chatID: chat.id, authorID: user.id, content: content) { [metrics] message in
                metrics.messagesStored.increment()
                do {
                    try await channelLayer.publish(chatID: chatID, seq: message.seq, frame: ServerFrame.newMessage(message))
                } catch {
                    // Committed already: readers catch up with fetch_messages.
                    logger.warning("publishing a stored message failed", metadata: ["error": "\(error)", "message": "\(message.id)"])
                }
            }
        } catch {
            logger.error("storing a message failed", metadata: ["error": "\(error)"])
            outbox.yield(SocketFrameError("the message was not stored; send it again").frame)
        }
    }
}

/// What a socket's reader, writer and shutdown drain share: why the server closes the socket (set
/// once, by whoever decides first), whether frames are still accepted, and how many are in hand.
private final class SessionState: Sendable {
    private struct Fields {
        var closeReason: (WebSocketErrorCode, String)?
        var accepting = true
        var handling = 0
    }

    private let fields = Mutex(Fields())

    func close(_ code: WebSocketErrorCode, _ text: String) {
        fields.withLock { if $0.closeReason == nil { $0.closeReason = (code, text) } }
    }

    var closeReason: (WebSocketErrorCode, String)? {
        fields.withLock { $0.closeReason }
    }

    /// Counts a frame in hand; false once the socket no longer accepts frames.
    func beginHandling() -> Bool {
        fields.withLock {
            guard $0.accepting else { return false }
            $0.handling += 1
            return true
        }
    }

    func endHandling() {
        fields.withLock { $0.handling -= 1 }
    }

    var isHandling: Bool { fields.withLock { $0.handling > 0 } }

    func stopAccepting() {
        fields.withLock { $0.accepting = false }
    }
}
