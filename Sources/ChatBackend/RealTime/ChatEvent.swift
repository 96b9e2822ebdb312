import Logging

/// A change to a chat, other than a new message, that the participants' user sockets
/// (`/ws/`, PROTOCOL.md) are to hear about: `edited`, `deleted`, `read` and `chat` events.
///
/// REST routes announce these already; until the user socket exists nothing listens
/// (``ChatEventSink/none``). The chat sockets of API.md never get them.
public enum ChatEvent: Sendable, Equatable {
    /// A message's new content (`{"command": "edited", "chat", "id", "seq", "content", "edited_at"}`).
    case edited(chat: Chat, message: Message)
    /// A message became a tombstone (`{"command": "deleted", "chat", "id", "seq"}`).
    case deleted(chat: Chat, message: Message)
    /// A user's read marker moved (`{"command": "read", "chat", "user", "seq"}`).
    case read(chat: Chat, userID: Int64, seq: Int64)
    /// A user left the chat or was removed: their live delivery of it must stop at once, on every
    /// node, and the others get `{"command": "chat", "event": "updated", ...}`.
    case removed(chat: Chat, userID: Int64)
    /// The chat was renamed (`{"command": "chat", "event": "updated", ...}`).
    case renamed(chat: Chat)
}

/// Where ``ChatEvent``s go: the user socket's delivery, once it exists.
public struct ChatEventSink: Sendable {
    private let deliver: @Sendable (ChatEvent) async -> Void

    /// A sink calling `deliver` with each event, after the change is committed.
    public init(_ deliver: @escaping @Sendable (ChatEvent) async -> Void) {
        self.deliver = deliver
    }

    /// Tells whoever listens; a change is committed already, so this never fails the request.
    public func announce(_ event: ChatEvent) async {
        await deliver(event)
    }

    /// Nobody listens yet: there is no user socket.
    public static let none = ChatEventSink { _ in }
}

extension ChannelLayer {
    /// Publishes a message just stored to every socket of its chat, on every node, as a chat
    /// socket's `new_message` does: the frame chat sockets have always had, with `seq`.
    ///
    /// Call it from the store's `publish` closure, so it runs in the chat's commit order. A failure
    /// is logged, not thrown: the message is committed, and readers catch up from the history.
    func publishNewMessage(_ message: Message, metrics: DeliveryMetrics, logger: Logger) async {
        metrics.messagesStored.increment()
        do {
            try await publish(chatID: message.chatID, seq: message.seq, frame: ServerFrame.newMessage(message))
        } catch {
            logger.warning("publishing a stored message failed", metadata: ["error": "\(error)", "message": "\(message.id)"])
        }
    }
}
