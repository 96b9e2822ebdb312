import Foundation

/// A new message's frames: the chat socket's `new_message` (API.md), encoded once for all its
/// recipients, and what the user socket's `message` (PROTOCOL.md) adds to it.
///
/// The user frame is derived from the chat frame only when a user socket receives the message
/// (``user``): the message's JSON is the same in both, so this is string assembly, not a second
/// encoding. Encoding both for every message cost 5 % of the server's time under load, with no
/// user socket open (`docs/performance.md`).
public struct MessageFrames: Sendable, Equatable {
    /// `{"command": "new_message", "message": {...}}`
    public let chat: String
    /// The chat's uuid, the author's uuid and the send's client id: the user frame's additions.
    let chatUUID: String
    let authorUUID: String
    let clientID: String?

    /// The frames of `message`, stored in the chat `chatUUID` by the user `authorUUID`.
    public init(_ message: Message, chatUUID: UUID, authorUUID: UUID) {
        self.init(chat: ServerFrame.newMessage(message), chatUUID: chatUUID.text, authorUUID: authorUUID.text, clientID: message.clientID)
    }

    /// The frames of a message read back from the database.
    public init(_ deliverable: DeliverableMessage) {
        self.init(deliverable.message, chatUUID: deliverable.chatUUID, authorUUID: deliverable.authorUUID)
    }

    private init(chat: String, chatUUID: String, authorUUID: String, clientID: String?) {
        self.chat = chat
        self.chatUUID = chatUUID
        self.authorUUID = authorUUID
        self.clientID = clientID
    }

    private static let chatPrefix = #"{"command":"new_message","message":{"#
    private static let chatSuffix = "}}"

    /// `{"command": "message", "chat", "message": {..., "author", "client_id"?}}`: the chat frame's
    /// message with the user frame's additions. Build it once per delivery.
    public var user: String {
        guard chat.hasPrefix(Self.chatPrefix), chat.hasSuffix(Self.chatSuffix) else {
            // Not the shape ServerFrame.newMessage writes (a node of another release): rebuild it.
            return rebuiltUserFrame()
        }
        let body = chat.dropFirst(Self.chatPrefix.count).dropLast(Self.chatSuffix.count)
        var frame = #"{"command":"message","chat":"# + JSONValue.string(chatUUID).serialized + #","message":{"# + body
        frame += #","author":"# + JSONValue.string(authorUUID).serialized
        if let clientID { frame += #","client_id":"# + JSONValue.string(clientID).serialized }
        return frame + Self.chatSuffix
    }

    private func rebuiltUserFrame() -> String {
        guard case .object(var message)? = (try? JSONValue.parse(Array(chat.utf8)))?["message"] else { return chat }
        message.append(("author", .string(authorUUID)))
        if let clientID { message.append(("client_id", .string(clientID))) }
        return JSONValue.object([("command", "message"), ("chat", .string(chatUUID)), ("message", .object(message))]).serialized
    }

    /// The frames in one string for a channel layer: `<length of chat> <chat><chat uuid><author
    /// uuid><client id>` (uuids are 36 characters), so the receiver splits it without parsing JSON.
    public var encoded: String {
        "\(chat.utf8.count) \(chat)\(chatUUID)\(authorUUID)\(clientID ?? "")"
    }

    /// The frames of an ``encoded`` string, or nil if it is not one.
    public init?(encoded: String) {
        let bytes = encoded.utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), let length = Int(Substring(bytes[..<space])), length >= 0 else {
            return nil
        }
        let start = bytes.index(after: space)
        guard let chatEnd = bytes.index(start, offsetBy: length, limitedBy: bytes.endIndex),
            let chatUUIDEnd = bytes.index(chatEnd, offsetBy: 36, limitedBy: bytes.endIndex),
            let authorEnd = bytes.index(chatUUIDEnd, offsetBy: 36, limitedBy: bytes.endIndex),
            let chat = String(bytes[start..<chatEnd]), let chatUUID = String(bytes[chatEnd..<chatUUIDEnd]),
            let authorUUID = String(bytes[chatUUIDEnd..<authorEnd]), let clientID = String(bytes[authorEnd...])
        else { return nil }
        self.init(chat: chat, chatUUID: chatUUID, authorUUID: authorUUID, clientID: clientID.isEmpty ? nil : clientID)
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
