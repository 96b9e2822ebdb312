import Foundation

/// A new message's two frames, each encoded once for all its recipients: the chat socket's
/// `new_message` (API.md) and the user socket's `message` (PROTOCOL.md).
public struct MessageFrames: Sendable, Equatable {
    /// `{"command": "new_message", "message": {...}}`
    public let chat: String
    /// `{"command": "message", "chat", "message": {...}}`
    public let user: String

    init(chat: String, user: String) {
        self.chat = chat
        self.user = user
    }

    /// The frames of `message`, stored in the chat `chatUUID` by the user `authorUUID`.
    public init(_ message: Message, chatUUID: UUID, authorUUID: UUID) {
        self.init(chat: ServerFrame.newMessage(message), user: UserFrame.message(message, chat: chatUUID, author: authorUUID))
    }

    /// The frames of a message read back from the database.
    public init(_ deliverable: DeliverableMessage) {
        self.init(deliverable.message, chatUUID: deliverable.chatUUID, authorUUID: deliverable.authorUUID)
    }

    /// Both frames in one string for a channel layer: `<length of chat> <chat><user>`, so the
    /// receiver splits it without parsing JSON.
    public var encoded: String {
        "\(chat.utf8.count) \(chat)\(user)"
    }

    /// The frames of an ``encoded`` string, or nil if it is not one.
    public init?(encoded: String) {
        let bytes = encoded.utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), let length = Int(Substring(encoded.utf8[..<space])), length >= 0 else {
            return nil
        }
        let start = bytes.index(after: space)
        guard let end = bytes.index(start, offsetBy: length, limitedBy: bytes.endIndex) else { return nil }
        guard let chat = String(bytes[start..<end]), let user = String(bytes[end...]) else { return nil }
        self.init(chat: chat, user: user)
    }
}

/// Something for user sockets other than a new message: an edit, a delete, a read marker,
/// typing, a chat's change, presence. Not ordered with the chat's messages and not replayed on
/// resume: the history (edits, tombstones) and the chat list hold the lasting state.
public struct UserSocketEvent: Sendable, Equatable {
    /// Who receives it.
    public enum Audience: Sendable, Equatable {
        /// The user sockets of the chat's participants, but those of `excludingUser`.
        case chat(Int64, excludingUser: Int64? = nil)
        /// Every user socket of these users, whether or not they follow any chat.
        case users([Int64])
    }

    /// What the receiving node does besides sending the frame.
    public enum Effect: Sendable, Equatable {
        case none
        /// Start following the chat from after `position` (its `last_seq` when it was joined).
        case joined(chatID: Int64, chatUUID: UUID, position: Int64)
        /// Stop following the chat at once.
        case left(chatID: Int64)
        /// `userID`'s first socket on the node `node` opened, or its last one closed: the frame
        /// goes out only when this flips whether the user is online anywhere.
        case presence(userID: Int64, node: String, online: Bool)
    }

    public var audience: Audience
    public var frame: String
    public var effect: Effect

    public init(audience: Audience, frame: String, effect: Effect = .none) {
        self.audience = audience
        self.frame = frame
        self.effect = effect
    }
}
