import Foundation
import Logging

/// A change to a chat, other than a new message, that the participants' user sockets
/// (`/ws/`, PROTOCOL.md) are to hear about: `edited`, `deleted`, `read` and `chat` events.
///
/// REST routes and the user socket announce them; ``ChatEventSink/broadcasting(through:store:logger:)``
/// turns them into ``UserSocketEvent``s on every node. The chat sockets of API.md never get them.
public enum ChatEvent: Sendable, Equatable {
    /// A message's new content (`{"command": "edited", "chat", "id", "seq", "content", "edited_at"}`).
    case edited(chat: Chat, message: Message)
    /// A message became a tombstone (`{"command": "deleted", "chat", "id", "seq"}`).
    case deleted(chat: Chat, message: Message)
    /// A user's read marker moved (`{"command": "read", "chat", "user", "seq"}`).
    case read(chat: Chat, userUUID: UUID, seq: Int64)
    /// Users joined the chat (a new private chat, a group's new member): their user sockets
    /// follow it at once (`{"command": "chat", "event": "added", ...}`), its other participants
    /// hear `updated`.
    case added(chat: Chat, userIDs: [Int64])
    /// A user left the chat or was removed: their live delivery of it must stop at once, on every
    /// node, and the others get `{"command": "chat", "event": "updated", ...}`.
    case removed(chat: Chat, userID: Int64)
    /// The chat was renamed (`{"command": "chat", "event": "updated", ...}`).
    case renamed(chat: Chat)
}

/// Where ``ChatEvent``s go.
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

    /// Nobody listens (tests of the REST routes alone).
    public static let none = ChatEventSink { _ in }

    /// Publishes each event to the user sockets it concerns, on every node. A failure is logged:
    /// the change is committed, and the history and the chat list show it.
    public static func broadcasting(through channelLayer: any ChannelLayer, store: ChatStore, logger: Logger) -> ChatEventSink {
        ChatEventSink { event in
            do {
                for socketEvent in try await userSocketEvents(for: event, store: store) {
                    try await channelLayer.publish(socketEvent)
                }
            } catch {
                logger.warning("announcing a change to user sockets failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The user-socket events a change makes.
    static func userSocketEvents(for event: ChatEvent, store: ChatStore) async throws -> [UserSocketEvent] {
        switch event {
        case .edited(let chat, let message):
            return [UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.edited(message, chat: chat.uuid))]
        case .deleted(let chat, let message):
            return [UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.deleted(message, chat: chat.uuid))]
        case .read(let chat, let userUUID, let seq):
            return [UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.read(chat: chat.uuid, user: userUUID, seq: seq))]
        case .renamed(let chat):
            return [UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.chatEvent("updated", chat: chat.eventJSON))]
        case .removed(let chat, let userID):
            return [
                UserSocketEvent(audience: .users([userID]), frame: UserFrame.chatEvent("removed", chat: chat.eventJSON), effect: .left(chatID: chat.id)),
                UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.chatEvent("updated", chat: chat.eventJSON)),
            ]
        case .added(let chat, let userIDs):
            var events = [UserSocketEvent(audience: .chat(chat.id), frame: UserFrame.chatEvent("updated", chat: chat.eventJSON))]
            for userID in userIDs {
                // Each newcomer's own read state: a group's earlier messages are unread to them.
                let state = try await store.readState(userID: userID, chatID: chat.id)
                events.append(UserSocketEvent(
                    audience: .users([userID]), frame: UserFrame.chatEvent("added", chat: chat.json(state)),
                    effect: .joined(chatID: chat.id, chatUUID: chat.uuid, position: state.lastSeq)
                ))
            }
            return events
        }
    }
}

extension Chat {
    /// The chat JSON of `updated` and `removed` events: the chat's own fields, without the
    /// recipient's read state (which the change does not move).
    var eventJSON: JSONValue {
        guard case .object(let members) = json(ChatReadState(chatID: id, lastSeq: lastSeq)) else { return .null }
        return .object(members.filter { $0.0 != "read_seq" && $0.0 != "unread" })
    }
}

extension ChannelLayer {
    /// Publishes a message just stored to every socket of its chat, on every node: chat sockets
    /// get the `new_message` they always had (with `seq`), user sockets a `message`.
    ///
    /// Call it from the store's `publish` closure, so it runs in the chat's commit order. A failure
    /// is logged, not thrown: the message is committed, and readers catch up from the history.
    func publishNewMessage(_ message: Message, chatUUID: UUID, authorUUID: UUID, metrics: DeliveryMetrics, logger: Logger) async {
        metrics.messagesStored.increment()
        do {
            try await publish(chatID: message.chatID, seq: message.seq, frames: MessageFrames(message, chatUUID: chatUUID, authorUUID: authorUUID))
        } catch {
            logger.warning("publishing a stored message failed", metadata: ["error": "\(error)", "message": "\(message.id)"])
        }
    }
}
