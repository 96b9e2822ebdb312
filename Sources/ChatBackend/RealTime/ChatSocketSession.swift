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
    let logger: Logger

    private var user: User { caller.user }

    /// Serves the socket until the client leaves, the server shuts down, or the client reads too slowly.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, shutdown: ShutdownSignal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await shutdown.wait()
                guard !Task.isCancelled else { return }
                try? await outbound.close(.goingAway, reason: "server shutting down")
            }
            await serve(inbound: inbound, outbound: outbound)
            group.cancelAll()
        }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let (frames, outbox) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(Limits.socketOutboundQueue))
        let closing = CloseReason()
        let socketID = hub.join(chatID: chat.id, outbox: outbox) {
            closing.set(.policyViolation, "outbound queue full: read faster")
            outbox.finish()
        }
        defer { hub.leave(chatID: chat.id, socketID: socketID) }

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await frame in frames {
                    do { try await outbound.write(.text(frame)) } catch { break }
                }
                if let (code, reason) = closing.value {
                    logger.notice("closing a socket", metadata: ["user": "\(user.id)", "chat": "\(chat.id)", "reason": "\(reason)"])
                    try? await outbound.close(code, reason: reason)
                }
            }
            group.addTask {
                do {
                    var checkedAt = ContinuousClock.now
                    for try await message in inbound.messages(maxSize: Limits.socketFrameBytes) {
                        // The token (or the membership) may have been revoked since the last check.
                        if ContinuousClock.now - checkedAt >= reauthorizationInterval {
                            guard await isStillAuthorized() else {
                                closing.set(.policyViolation, "token revoked or no longer a participant")
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
            await group.waitForAll()
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
            _ = try await store.addMessage(chatID: chat.id, authorID: user.id, content: content) { message in
                do {
                    try await channelLayer.publish(chatID: chatID, frame: ServerFrame.newMessage(message))
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

/// Why the server closes a socket, set once by whoever decides it (the hub on overflow, the
/// reader on a revoked token) and read by the writer, which sends the close frame.
private final class CloseReason: Sendable {
    private let reason = Mutex<(WebSocketErrorCode, String)?>(nil)

    func set(_ code: WebSocketErrorCode, _ text: String) {
        reason.withLock { if $0 == nil { $0 = (code, text) } }
    }

    var value: (WebSocketErrorCode, String)? {
        reason.withLock { $0 }
    }
}
