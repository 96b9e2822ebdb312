import Foundation
import Synchronization

/// The sockets this node has open, by chat, and the fan-out of a chat's frames to them.
///
/// Delivery never waits on a socket: each socket has a bounded queue (``SocketOutbox``) written
/// onto its connection, and a socket whose queue is full is cut off instead of slowing the chat
/// down for everyone else.
public final class ChatHub: Sendable {
    /// A socket's outbound queue, as the hub sees it.
    typealias Outbox = SocketOutbox

    /// Why the hub cuts a socket off.
    enum CutOff: Sendable {
        /// Its queue is full: the client reads too slowly.
        case overflow
        /// Its token was revoked (log-out, password change), or its user left the chat.
        case revoked
    }

    /// Where a chat's frames go: a chat socket's queue, or a user socket's feed (which follows
    /// many chats, and merges live frames with the history).
    enum Receiver: Sendable {
        case chatSocket(Outbox)
        case userSocket(UserSocketFeed)
    }

    private struct Member {
        let userID: Int64
        let tokenDigest: String
        let receiver: Receiver
        let cutOff: @Sendable (CutOff) -> Void
    }

    /// A user socket, as the hub sees it outside its chats: for events addressed to its user.
    private struct UserSocket {
        let feed: UserSocketFeed
        let events: @Sendable (UserSocketEvent) -> Void
        let cutOff: @Sendable (CutOff) -> Void
    }

    /// A chat whose first socket on this node opened, or whose last one closed.
    public enum Activity: Sendable {
        /// The chat's first socket opened, having seen the chat up to `position` (its last `seq`).
        case opened(chatID: Int64, position: Int64)
        case closed(chatID: Int64)
    }

    private let sockets = Mutex<[Int64: [Int: Member]]>([:])
    /// The user sockets on this node, by user.
    private let userSockets = Mutex<[Int64: [Int: UserSocket]]>([:])
    /// Which nodes have a user socket of each user online (this one included), as presence
    /// events tell: a user is online while any node has one.
    private let presence = Mutex<[Int64: Set<String>]>([:])
    /// This node's name in presence events.
    public let nodeID = UUID().uuidString
    /// The newest `seq` delivered to each chat with sockets here: a closing socket waits until its
    /// sender's own messages have come back.
    private let deliveredSeq = Mutex<[Int64: Int64]>([:])
    /// Told of every ``Activity``, under the hub's lock so events come in the order they happen:
    /// it must be quick and must not call the hub.
    private let activityObserver = Mutex<(@Sendable (Activity) -> Void)?>(nil)
    private let nextID = Atomic<Int>(0)
    private let departures = Atomic<Int>(0)
    private let metrics: DeliveryMetrics

    /// Creates an empty hub that reports to `metrics`.
    public init(metrics: DeliveryMetrics = .discarded) {
        self.metrics = metrics
    }

    /// Calls `observer` with every chat that gets its first socket or loses its last one (a channel
    /// layer subscribes to just those chats). One observer; a second replaces the first.
    public func observeActivity(_ observer: @escaping @Sendable (Activity) -> Void) {
        activityObserver.withLock { $0 = observer }
    }

    /// Registers a socket of `chatID`, opened by `userID` with the token `tokenDigest`, that has
    /// seen the chat up to `position`; returns the id to leave with. `cutOff` is called when the
    /// hub drops the socket.
    func join(
        chatID: Int64, userID: Int64, tokenDigest: String, position: Int64 = 0, outbox: Outbox,
        cutOff: @escaping @Sendable (CutOff) -> Void
    ) -> Int {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        add(Member(userID: userID, tokenDigest: tokenDigest, receiver: .chatSocket(outbox), cutOff: cutOff), id: id, chatID: chatID, position: position)
        metrics.openSockets.increment()
        return id
    }

    private func add(_ member: Member, id: Int, chatID: Int64, position: Int64) {
        sockets.withLock { chats in
            if chats[chatID] == nil { activityObserver.withLock { $0?(.opened(chatID: chatID, position: position)) } }
            chats[chatID, default: [:]][id] = member
        }
    }

    // MARK: User sockets

    /// Registers a user socket, under `id` (``newSocketID()``), for the events addressed to its
    /// user; true when it is the user's first on this node. `events` handles each event (and
    /// what it changes of the socket's chats: joined, left).
    func joinUser(
        id: Int, feed: UserSocketFeed, events: @escaping @Sendable (UserSocketEvent) -> Void, cutOff: @escaping @Sendable (CutOff) -> Void
    ) -> Bool {
        let first = userSockets.withLock { users in
            defer { users[feed.userID, default: [:]][id] = UserSocket(feed: feed, events: events, cutOff: cutOff) }
            return users[feed.userID]?.isEmpty ?? true
        }
        metrics.openSockets.increment()
        return first
    }

    /// A new socket id, for a user socket to join with (its event handler needs it first).
    func newSocketID() -> Int {
        nextID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// The user socket `id` follows a chat: it receives the chat's frames from now on.
    func follow(chatID: Int64, socketID: Int, feed: UserSocketFeed, position: Int64, cutOff: @escaping @Sendable (CutOff) -> Void) {
        add(Member(userID: feed.userID, tokenDigest: feed.tokenDigest, receiver: .userSocket(feed), cutOff: cutOff), id: socketID, chatID: chatID, position: position)
    }

    /// Unregisters a user socket from its user and every chat it follows; true when it was the
    /// user's last socket on this node.
    func leaveUser(socketID: Int, feed: UserSocketFeed) -> Bool {
        for chatID in feed.chatIDs { unfollow(chatID: chatID, socketID: socketID) }
        let last = userSockets.withLock { users in
            users[feed.userID]?[socketID] = nil
            guard users[feed.userID]?.isEmpty ?? true else { return false }
            users[feed.userID] = nil
            return true
        }
        metrics.openSockets.decrement()
        departures.wrappingAdd(1, ordering: .relaxed)
        return last
    }

    /// The user socket stops receiving a chat's frames.
    func unfollow(chatID: Int64, socketID: Int) {
        removeMember(chatID: chatID, socketID: socketID)
    }

    /// Whether the user has a user socket on this node.
    func hasUserSocket(userID: Int64) -> Bool {
        userSockets.withLock { $0[userID] != nil }
    }

    /// Which of `userIDs` are online on any node, as far as this node has heard.
    func online(among userIDs: [Int64]) -> [Int64] {
        presence.withLock { nodes in userIDs.filter { nodes[$0]?.isEmpty == false } }
    }

    /// Hands an event to the user sockets it is for, on this node.
    public func deliver(_ event: UserSocketEvent) {
        if case .presence(let userID, let node, let online) = event.effect {
            let flipped = presence.withLock { nodes -> Bool in
                let wasOnline = nodes[userID]?.isEmpty == false
                if online { nodes[userID, default: []].insert(node) } else { nodes[userID]?.remove(node) }
                if nodes[userID]?.isEmpty == true { nodes[userID] = nil }
                return wasOnline != (nodes[userID] != nil)
            }
            guard flipped else { return }
        }
        switch event.audience {
        case .chat(let chatID, let excluded):
            let feeds = sockets.withLock { chats in
                chats[chatID].map { members in
                    members.values.compactMap { member -> UserSocketFeed? in
                        guard case .userSocket(let feed) = member.receiver, member.userID != excluded else { return nil }
                        return feed
                    }
                } ?? []
            }
            for feed in feeds { feed.send(event.frame) }
        case .users(let userIDs):
            let targets = userSockets.withLock { users in userIDs.flatMap { users[$0].map { Array($0.values) } ?? [] } }
            for target in targets { target.events(event) }
        }
    }

    /// Unregisters a chat socket.
    func leave(chatID: Int64, socketID: Int) {
        removeMember(chatID: chatID, socketID: socketID)
        metrics.openSockets.decrement()
        departures.wrappingAdd(1, ordering: .relaxed)
    }

    private func removeMember(chatID: Int64, socketID: Int) {
        sockets.withLock { chats in
            chats[chatID]?[socketID] = nil
            if chats[chatID]?.isEmpty == true {
                chats[chatID] = nil
                deliveredSeq.withLock { $0[chatID] = nil }
                activityObserver.withLock { $0?(.closed(chatID: chatID)) }
            }
        }
    }

    /// How many sockets left since the last call (the ``MemoryTrimmer`` asks).
    func takeDepartures() -> Int {
        departures.exchange(0, ordering: .relaxed)
    }

    /// Queues one frame (already encoded, once for all recipients) to every socket of a chat.
    /// `committed` is when its message was committed, if this node knows: the fan-out is timed from
    /// there to the last socket's write, and from now when it is not known.
    public func deliver(chatID: Int64, seq: Int64, frames: MessageFrames, committed: ContinuousClock.Instant? = nil) {
        // Copy the members out so no lock is held while queues are touched.
        let members = sockets.withLock { $0[chatID].map { Array($0.values) } ?? [] }
        guard !members.isEmpty else { return }
        deliveredSeq.withLock { $0[chatID] = max($0[chatID] ?? 0, seq) }
        let fanOut = FanOut(sockets: members.count, since: committed ?? .now, duration: metrics.fanOutDuration)
        var userFrame: String?  // built for the first user socket, shared by the others
        for member in members {
            switch member.receiver {
            case .chatSocket(let outbox):
                switch outbox.offer(OutboundFrame(text: frames.chat, fanOut: fanOut)) {
                case .queued:
                    break
                case .full:
                    fanOut.done()
                    member.cutOff(.overflow)
                case .closed:
                    fanOut.done()
                }
            case .userSocket(let feed):
                let text = userFrame ?? frames.user
                userFrame = text
                feed.deliver(chatID: chatID, seq: seq, frame: OutboundFrame(text: text, fanOut: fanOut))
            }
        }
    }

    /// Whether the chat's message `seq` (and so, in `seq` order, every one before it) has been
    /// handed to this node's sockets of the chat.
    func hasDelivered(chatID: Int64, seq: Int64) -> Bool {
        deliveredSeq.withLock { ($0[chatID] ?? 0) >= seq }
    }

    /// Cuts off this node's sockets that a revocation names. Rare (a log-out, a member leaving), so
    /// a scan will do.
    public func revoke(_ revocation: TokenRevocation) {
        if let chatID = revocation.chatID {
            // The user left the chat: chat sockets of it close; user sockets stop following it.
            let members = sockets.withLock { chats in
                (chats[chatID] ?? [:]).filter { revocation.revokes(userID: $0.value.userID, digest: $0.value.tokenDigest, chatID: chatID) }
            }
            for (socketID, member) in members {
                switch member.receiver {
                case .chatSocket: member.cutOff(.revoked)
                case .userSocket(let feed):
                    feed.unfollow(chatID: chatID)
                    removeMember(chatID: chatID, socketID: socketID)
                }
            }
            return
        }
        let chatSockets = sockets.withLock { chats in
            chats.flatMap { chatID, members in
                members.values.filter { member in
                    guard case .chatSocket = member.receiver else { return false }
                    return revocation.revokes(userID: member.userID, digest: member.tokenDigest, chatID: chatID)
                }
            }
        }
        for member in chatSockets { member.cutOff(.revoked) }
        let userSockets = userSockets.withLock { users in
            (users[revocation.userID] ?? [:]).values.filter { revocation.revokes(userID: $0.feed.userID, digest: $0.feed.tokenDigest, chatID: 0) }
        }
        for socket in userSockets { socket.cutOff(.revoked) }
    }

}
