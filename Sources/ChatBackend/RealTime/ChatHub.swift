import Synchronization

/// The sockets this node has open, by chat, and the fan-out of a chat's frames to them.
///
/// Delivery never waits on a socket: each socket has a bounded queue drained by its own task, and
/// a socket whose queue is full is cut off instead of slowing the chat down for everyone else.
public final class ChatHub: Sendable {
    /// A socket's outbound queue, as the hub sees it.
    typealias Outbox = AsyncStream<String>.Continuation

    private struct Member {
        let outbox: Outbox
        let onOverflow: @Sendable () -> Void
    }

    private let sockets = Mutex<[Int64: [Int: Member]]>([:])
    private let nextID = Atomic<Int>(0)

    /// Creates an empty hub.
    public init() {}

    /// Registers a socket of `chatID`; returns the id to leave with.
    func join(chatID: Int64, outbox: Outbox, onOverflow: @escaping @Sendable () -> Void) -> Int {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        sockets.withLock { $0[chatID, default: [:]][id] = Member(outbox: outbox, onOverflow: onOverflow) }
        return id
    }

    /// Unregisters a socket.
    func leave(chatID: Int64, socketID: Int) {
        sockets.withLock { chats in
            chats[chatID]?[socketID] = nil
            if chats[chatID]?.isEmpty == true { chats[chatID] = nil }
        }
    }

    /// Queues one frame (already encoded, once for all recipients) to every socket of a chat.
    public func deliver(chatID: Int64, frame: String) {
        // Copy the members out so no lock is held while queues are touched.
        let members = sockets.withLock { $0[chatID].map { Array($0.values) } ?? [] }
        for member in members {
            if case .dropped = member.outbox.yield(frame) {
                member.onOverflow()
            }
        }
    }
}
