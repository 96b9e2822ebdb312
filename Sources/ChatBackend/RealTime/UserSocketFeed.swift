import Foundation
import Logging
import Synchronization

/// What one user socket is sent of its chats' messages: each chat's messages exactly once, in
/// `seq` order, from the socket's starting position on, merging live frames with the history.
///
/// Each chat followed has a cursor: the last `seq` sent. A live frame right after it is sent at
/// once; one already sent is dropped; one after a gap (the socket joined the chat while frames
/// were on their way, or the client resumes from an older position) switches the chat to
/// *filling*: live frames are then only noted, and the missing messages are read from the
/// database, where every published message already is, until the cursor reaches the newest
/// frame noted. The database stays the source of truth and nothing waits in memory: however
/// far behind a socket starts, what it holds is one cursor per chat.
///
/// Until the client's first frame (PROTOCOL.md: "until the client's first frame the server sends
/// only hello") every chat *waits*: live frames are only noted. The first frame then starts each
/// chat from its `hello` position, or from the position a `resume` names.
final class UserSocketFeed: Sendable {
    let userID: Int64
    let tokenDigest: String
    let outbox: SocketOutbox

    private enum Mode {
        case waiting
        case filling
        case live
    }

    private struct Cursor {
        let uuid: UUID
        var lastSent: Int64
        var mode: Mode
        /// The newest `seq` heard while not live.
        var highestSeen: Int64
        /// A `resume` asked for this chat: say `resumed` once it is caught up.
        var resuming = false
        var truncated = false
    }

    private struct State {
        var cursors: [Int64: Cursor] = [:]
        var chatIDs: [UUID: Int64] = [:]
        var started = false
        /// Events that came before `hello` was sent; nil once it was.
        var held: [String]? = []
    }

    /// Events held before `hello` at most; a socket whose start takes that long is cut off.
    private static let heldLimit = 256

    private let state = Mutex(State())
    private let fillRequests: AsyncStream<Int64>.Continuation
    private let fillQueue: AsyncStream<Int64>
    private let overflow: @Sendable () -> Void

    /// A feed writing to `outbox`; `overflow` is called when the outbox is full.
    init(userID: Int64, tokenDigest: String, outbox: SocketOutbox, overflow: @escaping @Sendable () -> Void) {
        self.userID = userID
        self.tokenDigest = tokenDigest
        self.outbox = outbox
        self.overflow = overflow
        (fillQueue, fillRequests) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    // MARK: Chats followed

    /// Follows a chat from after `position`. Before the client's first frame the chat waits; after
    /// it (a chat joined while the socket is open) the database is read once from `position`, for
    /// what was committed before the hub knew of this socket.
    /// A chat followed already keeps its cursor.
    func follow(chatID: Int64, uuid: UUID, position: Int64) {
        let fill = state.withLock { state -> Bool in
            guard state.cursors[chatID] == nil else { return false }
            state.cursors[chatID] = Cursor(uuid: uuid, lastSent: position, mode: state.started ? .filling : .waiting, highestSeen: position)
            state.chatIDs[uuid] = chatID
            return state.started
        }
        if fill { fillRequests.yield(chatID) }
    }

    /// The chat has reached `seq` (read from the database after the socket joined the hub): what
    /// came between its starting position and the join is read once the feed starts.
    func noteCommitted(chatID: Int64, seq: Int64) {
        state.withLock { state in
            guard var cursor = state.cursors[chatID], cursor.mode == .waiting else { return }
            cursor.highestSeen = max(cursor.highestSeen, seq)
            state.cursors[chatID] = cursor
        }
    }

    /// Stops following a chat: nothing more of it is sent.
    func unfollow(chatID: Int64) {
        state.withLock { state in
            guard let cursor = state.cursors.removeValue(forKey: chatID) else { return }
            state.chatIDs[cursor.uuid] = nil
        }
    }

    /// The id of a chat this socket follows, by its uuid: nil for any chat the user is not in.
    func chatID(of uuid: UUID) -> Int64? {
        state.withLock { $0.chatIDs[uuid] }
    }

    /// The chats followed.
    var chatIDs: [Int64] {
        state.withLock { Array($0.cursors.keys) }
    }

    // MARK: Starting

    /// The client's first frame came: chats named in `resume` replay from the position given,
    /// the others go live from their `hello` position. Returns the uuids `resume` named that this
    /// socket does not follow (the user is not in them).
    @discardableResult
    func start(resume positions: [UUID: Int64] = [:]) -> [UUID] {
        var unknown: [UUID] = []
        var fills: [Int64] = []
        state.withLock { state in
            if state.started && positions.isEmpty { return }
            state.started = true
            for (uuid, position) in positions {
                guard let chatID = state.chatIDs[uuid], var cursor = state.cursors[chatID] else {
                    unknown.append(uuid)
                    continue
                }
                cursor.lastSent = position
                cursor.highestSeen = max(cursor.highestSeen, position)
                cursor.resuming = true
                cursor.mode = .filling
                state.cursors[chatID] = cursor
                fills.append(chatID)
            }
            for (chatID, cursor) in state.cursors where cursor.mode == .waiting {
                if cursor.highestSeen > cursor.lastSent {
                    state.cursors[chatID]?.mode = .filling
                    fills.append(chatID)
                } else {
                    state.cursors[chatID]?.mode = .live
                }
            }
        }
        for chatID in fills { fillRequests.yield(chatID) }
        return unknown
    }

    // MARK: Live frames

    /// A chat's message `seq`, from the hub (in `seq` order per chat on this node).
    func deliver(chatID: Int64, seq: Int64, frame: OutboundFrame) {
        let outcome = state.withLock { state -> SocketOutbox.Offer? in
            guard var cursor = state.cursors[chatID] else { return nil }
            defer { state.cursors[chatID] = cursor }
            switch cursor.mode {
            case .live where seq <= cursor.lastSent:
                return nil
            case .live where seq == cursor.lastSent + 1:
                cursor.lastSent = seq
                // Under the lock: two deliveries of one chat must reach the queue in order.
                return outbox.offer(frame)
            case .live:
                cursor.mode = .filling
                cursor.highestSeen = seq
                fillRequests.yield(chatID)
                return nil
            case .waiting, .filling:
                cursor.highestSeen = max(cursor.highestSeen, seq)
                return nil
            }
        }
        switch outcome {
        case .queued?: break
        case .full?: frame.fanOut?.done(); overflow()
        case .closed?, nil: frame.fanOut?.done()
        }
    }

    /// A frame for this socket that is not a message (an event, an answer). Before `hello` it
    /// waits, so `hello` is always the first frame.
    func send(_ text: String) {
        let offer = state.withLock { state -> SocketOutbox.Offer in
            guard state.held != nil else { return outbox.offer(text) }
            guard state.held!.count < Self.heldLimit else { return .full }
            state.held!.append(text)
            return .queued
        }
        if offer == .full { overflow() }
    }

    /// Sends `hello`, then the events that came while it was being made.
    func open(hello: String) {
        let full = state.withLock { state -> Bool in
            var full = outbox.offer(hello) == .full
            for text in state.held ?? [] where !full { full = outbox.offer(text) == .full }
            state.held = nil
            return full
        }
        if full { overflow() }
    }

    // MARK: Filling from the database

    /// Reads what each filling chat misses, one chat at a time, until the socket ends.
    func serveFills(store: ChatStore, logger: Logger) async {
        for await chatID in fillQueue {
            while !Task.isCancelled {
                do {
                    try await fill(chatID: chatID, store: store)
                    break
                } catch {
                    logger.warning("reading a chat's missed messages failed; trying again", metadata: ["chat": "\(chatID)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Ends ``serveFills(store:logger:)``.
    func finish() {
        fillRequests.finish()
    }

    private static let fillBatch = 200

    private func fill(chatID: Int64, store: ChatStore) async throws {
        try await skipBeyondResumeBound(chatID: chatID, store: store)
        while true {
            guard let after = state.withLock({ $0.cursors[chatID].flatMap { $0.mode == .filling ? $0.lastSent : nil } }) else { return }
            let messages = try await store.deliverableMessages(chatID: chatID, afterSeq: after, limit: Self.fillBatch)
            let caughtUp = state.withLock { state -> Bool in
                guard var cursor = state.cursors[chatID], cursor.mode == .filling else { return true }
                defer { state.cursors[chatID] = cursor }
                for deliverable in messages where deliverable.message.seq == cursor.lastSent + 1 {
                    if outbox.offer(MessageFrames(deliverable).user) == .full { overflow() }
                    cursor.lastSent = deliverable.message.seq
                }
                guard messages.count < Self.fillBatch, cursor.highestSeen <= cursor.lastSent else { return false }
                if cursor.resuming {
                    if outbox.offer(UserFrame.resumed(chat: cursor.uuid, seq: cursor.lastSent, truncated: cursor.truncated)) == .full {
                        overflow()
                    }
                    cursor.resuming = false
                    cursor.truncated = false
                }
                cursor.mode = .live
                return true
            }
            if caughtUp { return }
        }
    }

    /// A resume further back than ``Limits/resumeMessages`` starts from the newest that many.
    private func skipBeyondResumeBound(chatID: Int64, store: ChatStore) async throws {
        guard state.withLock({ $0.cursors[chatID]?.resuming == true }) else { return }
        let newest = try await store.readState(userID: userID, chatID: chatID).lastSeq
        state.withLock { state in
            guard var cursor = state.cursors[chatID], cursor.resuming, newest - cursor.lastSent > Int64(Limits.resumeMessages) else { return }
            cursor.lastSent = newest - Int64(Limits.resumeMessages)
            cursor.truncated = true
            state.cursors[chatID] = cursor
        }
    }
}
