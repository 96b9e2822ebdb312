import Foundation

/// A new message's frames: the chat socket's `new_message` (API.md), encoded once for all its
/// recipients, and the user socket's `message` (PROTOCOL.md).
///
/// The user frame is spliced from the chat frame only when a user socket receives the message
/// (``user``): the message's JSON is the same in both, so this is string assembly, not a second
/// encoding. Encoding both for every message cost 5 % of the server's time under load, with no
/// user socket open (`docs/performance.md`).
public struct MessageFrames: Sendable, Equatable {
    /// `{"command": "new_message", "message": {...}}`
    public let chat: String
    private let userFrame: UserFrameSource

    /// Where the user frame comes from.
    private enum UserFrameSource: Sendable, Equatable {
        /// Spliced from the chat frame with what the user frame adds: the chat's uuid, the
        /// author's uuid and the send's client id.
        case spliced(chatUUID: String, authorUUID: String, clientID: String?)
        /// Given whole (a channel layer that rewrites what user sockets get, in tests).
        case given(String)
    }

    /// The frames of `message`, stored in the chat `chatUUID` by the user `authorUUID`.
    public init(_ message: Message, chatUUID: UUID, authorUUID: UUID) {
        chat = ServerFrame.newMessage(message)
        userFrame = .spliced(chatUUID: chatUUID.text, authorUUID: authorUUID.text, clientID: message.clientID)
    }

    /// The frames of a message read back from the database.
    public init(_ deliverable: DeliverableMessage) {
        self.init(deliverable.message, chatUUID: deliverable.chatUUID, authorUUID: deliverable.authorUUID)
    }

    /// Frames given whole: what a user socket gets need not be what the chat frame says.
    public init(chat: String, user: String) {
        self.chat = chat
        userFrame = .given(user)
    }

    private init(chat: String, userFrame: UserFrameSource) {
        self.chat = chat
        self.userFrame = userFrame
    }

    /// `{"command": "message", "chat", "message": {..., "author", "client_id"?}}`. Build it once
    /// per delivery.
    public var user: String {
        switch userFrame {
        case .given(let frame): frame
        case .spliced(let chatUUID, let authorUUID, let clientID): Self.splice(chat, chatUUID: chatUUID, authorUUID: authorUUID, clientID: clientID)
        }
    }

    private static let chatPrefix = #"{"command":"new_message","message":{"#
    private static let chatSuffix = "}}"

    private static func splice(_ chat: String, chatUUID: String, authorUUID: String, clientID: String?) -> String {
        guard chat.hasPrefix(chatPrefix), chat.hasSuffix(chatSuffix) else {
            // Not the shape ServerFrame.newMessage writes (a node of another release): rebuild it.
            return rebuild(chat, chatUUID: chatUUID, authorUUID: authorUUID, clientID: clientID)
        }
        let body = chat.dropFirst(chatPrefix.count).dropLast(chatSuffix.count)
        var frame = #"{"command":"message","chat":"# + JSONValue.string(chatUUID).serialized + #","message":{"# + body
        frame += #","author":"# + JSONValue.string(authorUUID).serialized
        if let clientID { frame += #","client_id":"# + JSONValue.string(clientID).serialized }
        return frame + chatSuffix
    }

    private static func rebuild(_ chat: String, chatUUID: String, authorUUID: String, clientID: String?) -> String {
        guard case .object(var message)? = (try? JSONValue.parse(Array(chat.utf8)))?["message"] else { return chat }
        message.append(("author", .string(authorUUID)))
        if let clientID { message.append(("client_id", .string(clientID))) }
        return JSONValue.object([("command", "message"), ("chat", .string(chatUUID)), ("message", .object(message))]).serialized
    }

    /// The frames in one string for a channel layer, split by the receiver without parsing JSON:
    /// `<length of chat> <chat>` then either `<chat uuid><author uuid><client id>` (uuids are 36
    /// hex digits and dashes) or, for frames given whole, the user frame (a JSON object, so it
    /// begins with `{`).
    public var encoded: String {
        switch userFrame {
        case .given(let user): "\(chat.utf8.count) \(chat)\(user)"
        case .spliced(let chatUUID, let authorUUID, let clientID): "\(chat.utf8.count) \(chat)\(chatUUID)\(authorUUID)\(clientID ?? "")"
        }
    }

    /// The frames of an ``encoded`` string, or nil if it is not one.
    public init?(encoded: String) {
        let bytes = encoded.utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), let length = Int(Substring(bytes[..<space])), length >= 0 else {
            return nil
        }
        let start = bytes.index(after: space)
        guard let chatEnd = bytes.index(start, offsetBy: length, limitedBy: bytes.endIndex), let chat = String(bytes[start..<chatEnd]) else {
            return nil
        }
        let rest = bytes[chatEnd...]
        if rest.first == UInt8(ascii: "{") {
            guard let user = String(rest) else { return nil }
            self.init(chat: chat, userFrame: .given(user))
            return
        }
        guard let chatUUIDEnd = rest.index(chatEnd, offsetBy: 36, limitedBy: rest.endIndex),
            let authorEnd = rest.index(chatUUIDEnd, offsetBy: 36, limitedBy: rest.endIndex),
            let chatUUID = String(rest[chatEnd..<chatUUIDEnd]), let authorUUID = String(rest[chatUUIDEnd..<authorEnd]),
            let clientID = String(rest[authorEnd...])
        else { return nil }
        self.init(chat: chat, userFrame: .spliced(chatUUID: chatUUID, authorUUID: authorUUID, clientID: clientID.isEmpty ? nil : clientID))
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
