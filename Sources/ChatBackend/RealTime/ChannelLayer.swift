/// Carries a chat's live frames from the node that stored a message to every node with sockets
/// in that chat, and token revocations to every node. The database stays the source of truth: a
/// frame is published only after its message is committed, so a lost frame is caught up by
/// `fetch_messages`, never lost.
public protocol ChannelLayer: Sendable {
    /// Sends the frames of the chat's message `seq` to every socket of the chat, on every node.
    ///
    /// Called in the chat's commit order by this node; a layer across nodes delivers each chat's
    /// frames in `seq` order whichever node published them. It only queues the frames: a failure to
    /// pass them on later is the layer's to log (the message is stored; clients catch up by history).
    func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws

    /// Sends an event to the user sockets it is for, on every node (this one included).
    func publish(_ event: UserSocketEvent) async throws

    /// Closes the sockets opened with revoked tokens, on every node (1008).
    func revoke(_ revocation: TokenRevocation) async throws


    /// Whether frames published now would reach the other nodes (readiness).
    func isReachable() async -> Bool
}

/// Which sockets lose their token: a user's sockets opened with some tokens, or with any token but
/// one; or a user's sockets on one chat, whatever their token, once the user is no longer in it.
public struct TokenRevocation: Sendable, Equatable {
    public var userID: Int64
    /// The digests of the revoked tokens; nil: every token of the user...
    public var tokenDigests: [String]?
    /// ...but this one (a password change keeps the device that made it signed in).
    public var keeping: String?
    /// When set, only the user's sockets on this chat, and the tokens are not looked at: the user
    /// left the chat or was removed from it.
    public var chatID: Int64?

    public init(userID: Int64, tokenDigests: [String]? = nil, keeping: String? = nil, chatID: Int64? = nil) {
        self.userID = userID
        self.tokenDigests = tokenDigests
        self.keeping = keeping
        self.chatID = chatID
    }

    /// The user's sockets on a chat they no longer take part in. The empty token list makes a
    /// node that does not know `chatID` yet (a rolling upgrade) revoke nothing rather than all.
    public static func membership(userID: Int64, chatID: Int64) -> TokenRevocation {
        TokenRevocation(userID: userID, tokenDigests: [], chatID: chatID)
    }

    /// Whether a socket of `userID` on `chatID`, opened with the token `digest`, loses it.
    public func revokes(userID: Int64, digest: String, chatID: Int64) -> Bool {
        guard userID == self.userID else { return false }
        if let only = self.chatID { return only == chatID }
        guard digest != keeping else { return false }
        return tokenDigests?.contains(digest) ?? true
    }
}

/// The channel layer of a single node: frames go straight to this node's hub.
public struct LocalChannelLayer: ChannelLayer {
    let hub: ChatHub

    /// Creates a layer delivering to `hub`.
    public init(hub: ChatHub) {
        self.hub = hub
    }

    public func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
        hub.deliver(chatID: chatID, seq: seq, frames: frames)
    }

    public func publish(_ event: UserSocketEvent) async throws {
        hub.deliver(event)
    }

    public func revoke(_ revocation: TokenRevocation) async throws {
        hub.revoke(revocation)
    }


    public func isReachable() async -> Bool { true }
}
