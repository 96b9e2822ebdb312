/// Carries a chat's live frames from the node that stored a message to every node with sockets
/// in that chat. The database stays the source of truth: a frame is published only after its
/// message is committed, so a lost frame is caught up by `fetch_messages`, never lost.
public protocol ChannelLayer: Sendable {
    /// Sends a frame to every socket of the chat, on every node.
    func publish(chatID: Int64, frame: String) async throws
}

/// The channel layer of a single node: frames go straight to this node's hub.
public struct LocalChannelLayer: ChannelLayer {
    let hub: ChatHub

    /// Creates a layer delivering to `hub`.
    public init(hub: ChatHub) {
        self.hub = hub
    }

    public func publish(chatID: Int64, frame: String) async throws {
        hub.deliver(chatID: chatID, frame: frame)
    }
}
