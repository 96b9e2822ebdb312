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

    private struct Member {
        let userID: Int64
        let tokenDigest: String
        let outbox: Outbox
        let cutOff: @Sendable (CutOff) -> Void
    }

    /// A chat whose first socket on this node opened, or whose last one closed.
    public enum Activity: Sendable {
        /// The chat's first socket opened, having seen the chat up to `position` (its last `seq`).
        case opened(chatID: Int64, position: Int64)
        case closed(chatID: Int64)
    }

    private let sockets = Mutex<[Int64: [Int: Member]]>([:])
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
        let member = Member(userID: userID, tokenDigest: tokenDigest, outbox: outbox, cutOff: cutOff)
        sockets.withLock { chats in
            if chats[chatID] == nil { activityObserver.withLock { $0?(.opened(chatID: chatID, position: position)) } }
            chats[chatID, default: [:]][id] = member
        }
        metrics.openSockets.increment()
        return id
    }

    /// Unregisters a socket.
    func leave(chatID: Int64, socketID: Int) {
        sockets.withLock { chats in
            chats[chatID]?[socketID] = nil
            if chats[chatID]?.isEmpty == true {
                chats[chatID] = nil
                deliveredSeq.withLock { $0[chatID] = nil }
                activityObserver.withLock { $0?(.closed(chatID: chatID)) }
            }
        }
        metrics.openSockets.decrement()
        departures.wrappingAdd(1, ordering: .relaxed)
    }

    /// How many sockets left since the last call (the ``MemoryTrimmer`` asks).
    func takeDepartures() -> Int {
        departures.exchange(0, ordering: .relaxed)
    }

    /// Queues one frame (already encoded, once for all recipients) to every socket of a chat.
    /// `committed` is when its message was committed, if this node knows: the fan-out is timed from
    /// there to the last socket's write, and from now when it is not known.
    public func deliver(chatID: Int64, seq: Int64, frame: String, committed: ContinuousClock.Instant? = nil) {
        // Copy the members out so no lock is held while queues are touched.
        let members = sockets.withLock { $0[chatID].map { Array($0.values) } ?? [] }
        guard !members.isEmpty else { return }
        deliveredSeq.withLock { $0[chatID] = max($0[chatID] ?? 0, seq) }
        let fanOut = FanOut(sockets: members.count, since: committed ?? .now, duration: metrics.fanOutDuration)
        for member in members {
            switch member.outbox.offer(OutboundFrame(text: frame, fanOut: fanOut)) {
            case .queued:
                break
            case .full:
                fanOut.done()
                member.cutOff(.overflow)
            case .closed:
                fanOut.done()
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
        let revoked = sockets.withLock { chats in
            chats.flatMap { chatID, members in
                members.values.filter { revocation.revokes(userID: $0.userID, digest: $0.tokenDigest, chatID: chatID) }
            }
        }
        for member in revoked { member.cutOff(.revoked) }
    }
}
