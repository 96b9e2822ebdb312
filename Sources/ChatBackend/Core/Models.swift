import Foundation

/// A person with an account.
public struct User: Sendable, Equatable {
    public var id: Int64
    public var uuid: UUID
    public var email: String
    public var username: String
    public var passwordHash: String?
    public var emailVerified: Bool
    public var isActive: Bool
}

/// A friendship or a pending invitation: `inviterID` asked `inviteeID`.
public struct Contact: Sendable, Equatable {
    public var id: Int64
    public var inviterID: Int64
    public var inviteeID: Int64
    public var accepted: Bool
}

/// A pending invitation as listed to its invitee.
public struct Invitation: Sendable, Equatable {
    public var id: Int64
    public var inviterUsername: String
    public var inviteeUsername: String
}

/// A private chat (two friends) or a named group chat.
public struct Chat: Sendable, Equatable {
    public var id: Int64
    public var uuid: UUID
    public var name: String?
    public var isGroup: Bool
    public var lastActivity: Timestamp
    public var lastMessage: String?
    /// The `seq` of the chat's newest message (0 before the first).
    public var lastSeq: Int64 = 0
    /// Who created the group (nil for a private chat): they may remove members and delete any
    /// message, while they take part in it.
    public var creatorID: Int64? = nil
}

/// Where one user stands in one chat: the chat's newest `seq`, the user's read marker, and how
/// many messages after the marker are unread (others' messages, not deleted).
public struct ChatReadState: Sendable, Equatable {
    public var chatID: Int64
    public var lastSeq: Int64
    public var readSeq: Int64
    public var unread: Int64

    /// A user's state in a chat: `readSeq` 0 and nothing unread is a new chat's.
    public init(chatID: Int64, lastSeq: Int64, readSeq: Int64 = 0, unread: Int64 = 0) {
        self.chatID = chatID
        self.lastSeq = lastSeq
        self.readSeq = readSeq
        self.unread = unread
    }
}

/// Which of a user's chats a list shows.
public enum ChatKind: String, Sendable {
    case all
    case `private`
    case groups
}

/// A message as stored, in the order of its chat's history.
public struct Message: Sendable, Equatable {
    public var id: Int64
    public var chatID: Int64
    /// The message's position in its chat: 1, 2, 3, … with no gap and no repeat, given at commit.
    public var seq: Int64
    public var authorID: Int64
    public var content: String
    public var timeStamp: Timestamp
    /// The sender's idempotency key (1–64 characters), when the send carried one.
    public var clientID: String? = nil
    /// When the author last edited the content; nil if never.
    public var editedAt: Timestamp? = nil
    /// A tombstone: the content is gone (empty) but the `seq` stays taken, so the history has no gap.
    public var deleted = false
}

/// One page of a list, with the total the pagination links are computed from.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int
}

/// Where a page of history ends: messages strictly older than this position come next.
public enum HistoryCursor: Sendable, Equatable {
    /// Older than a message known by its time stamp and id, or than an instant when the id is nil
    /// (the original's plain time-stamp cursor).
    ///
    /// Ordering is by (time stamp, id), so messages sharing a time stamp are neither skipped nor
    /// repeated. Within a chat that order is the `seq` order: both follow the commit order.
    case timeStamp(Timestamp, messageID: Int64?)
    /// Older than the message with this `seq`.
    case seq(Int64)

    /// A cursor at a message (or an instant, when `messageID` is nil).
    public init(timeStamp: Timestamp, messageID: Int64?) {
        self = .timeStamp(timeStamp, messageID: messageID)
    }
}

extension UUID {
    /// The lowercase text form the database stores and the contract shows.
    var text: String { uuidString.lowercased() }
}
