import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Hears the chats that have sockets on this node, and revocations, and hands them to the hub in
/// each chat's `seq` order.
///
/// It subscribes only to the chats the hub has sockets for (SUBSCRIBE when a chat's first socket
/// opens, UNSUBSCRIBE when its last closes), so a node hears its own chats, not every chat of the
/// cluster. Once a subscription is confirmed, and after every reconnection, it reads from the
/// database what the chat committed meanwhile, so nothing sent while it was not listening is lost.
///
/// One thread owns the hiredis connection and the ``ChatSequencer``: it waits in `poll` on the
/// Redis socket and on a pipe that other threads write to when they leave it work (a chat opened
/// or closed, a database read done).
final class RedisSubscriber: Sendable {
    /// Most messages read from the database for one gap; a longer gap is read in several turns.
    static let gapReadLimit = 500

    private struct Inbox {
        var activity: [ChatHub.Activity] = []
        var filled: [(ChatSequencer.Gap, [(seq: Int64, frame: String)]?)] = []
    }

    private let host: String
    private let port: Int
    private let prefix: String
    private let hub: ChatHub
    private let store: ChatStore
    private let metrics: RedisMetrics
    private let pendingFrames: PendingFrames
    private let logger: Logger
    private let inbox = Mutex(Inbox())
    private let running = Atomic<Bool>(true)
    private let wake: WakePipe
    private let connection = Mutex<RedisConnectionBox?>(nil)

    init(
        host: String, port: Int, prefix: String, hub: ChatHub, store: ChatStore, metrics: RedisMetrics,
        pendingFrames: PendingFrames, logger: Logger
    ) throws {
        self.host = host
        self.port = port
        self.prefix = prefix
        self.hub = hub
        self.store = store
        self.metrics = metrics
        self.pendingFrames = pendingFrames
        self.logger = logger
        self.wake = try WakePipe()
    }

    /// Starts the subscriber's thread and follows the hub's chats.
    func start() {
        // Weak: held strongly, the hub and this subscriber would keep each other (and the pipe's
        // two descriptors) alive after their server stops.
        hub.observeActivity { [weak self] activity in
            guard let self else { return }
            self.inbox.withLock { $0.activity.append(activity) }
            self.wake.signal()
        }
        let thread = Thread { self.run() }
        thread.name = "redis-subscriber"
        thread.start()
    }

    /// Stops the thread (it ends at its next wake-up, which this causes).
    func stop() {
        running.store(false, ordering: .relaxed)
        wake.signal()
    }

    // MARK: The subscriber's thread

    private func run() {
        var sequencer = ChatSequencer()
        var backoff = Duration.milliseconds(100)
        var wasConnected = false
        while running.load(ordering: .relaxed) {
            do {
                let redis = try RedisConnection(host: host, port: port, timeout: .seconds(1))
                connection.withLock { $0 = RedisConnectionBox(redis) }
                takeActivity(into: &sequencer)
                try redis.append(["SUBSCRIBE", "\(prefix)revocations", "\(prefix)events"] + sequencer.chatIDs.map { "\(prefix)\($0)" })
                try redis.flush()
                logger.info("subscribed to Redis", metadata: ["redis": "\(host):\(port)", "chats": "\(sequencer.chatIDs.count)"])
                metrics.connection(.subscriber, isUp: true, reconnected: wasConnected)
                wasConnected = true
                backoff = .milliseconds(100)
                try serve(redis, sequencer: &sequencer)
            } catch {
                connection.withLock { $0 = nil }
                metrics.connection(.subscriber, isUp: false)
                guard running.load(ordering: .relaxed) else { break }
                logger.warning("Redis subscriber lost; reconnecting", metadata: ["error": "\(error)", "in": "\(backoff)"])
                wake.wait(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        connection.withLock { $0 = nil }
        metrics.connection(.subscriber, isUp: false)
    }

    /// Handles replies, chats opening and closing, and database reads until the connection fails
    /// or the subscriber stops.
    private func serve(_ redis: RedisConnection, sequencer: inout ChatSequencer) throws {
        // Looking for overdue gaps and quiet chats walks every chat followed: done when a deadline
        // is due, at most every hold-back, not after every read from Redis.
        var scanAt = ContinuousClock.now
        while running.load(ordering: .relaxed) {
            let changes = takeActivity(into: &sequencer)
            if !changes.subscribe.isEmpty { try redis.append(["SUBSCRIBE"] + changes.subscribe.map { "\(prefix)\($0)" }) }
            if !changes.unsubscribe.isEmpty { try redis.append(["UNSUBSCRIBE"] + changes.unsubscribe.map { "\(prefix)\($0)" }) }
            if !changes.subscribe.isEmpty || !changes.unsubscribe.isEmpty { try redis.flush() }

            for (gap, frames) in inbox.withLock({ inbox in defer { inbox.filled = [] }; return inbox.filled }) {
                if let frames {
                    deliver(sequencer.filled(gap, frames: frames, now: .now))
                } else {
                    sequencer.fetchFailed(gap, now: .now)
                }
            }
            while let reply = try redis.bufferedReply() {
                handle(reply, sequencer: &sequencer)
            }
            let now = ContinuousClock.now
            if now >= scanAt {
                for gap in sequencer.overdueGaps(now: now) + sequencer.quietChats(now: now) { read(gap) }
                scanAt = min(sequencer.nextDeadline() ?? now + .seconds(1), now + ChatSequencer.holdBack)
            }
            if wake.poll(alongside: redis.fileDescriptor, timeout: max(.zero, scanAt - .now)) {
                try redis.readAvailable()
            }
        }
    }

    /// Applies the chats opened and closed since the last call; returns the subscriptions to change.
    @discardableResult
    private func takeActivity(into sequencer: inout ChatSequencer) -> (subscribe: [Int64], unsubscribe: [Int64]) {
        let activity = inbox.withLock { inbox in defer { inbox.activity = [] }; return inbox.activity }
        guard !activity.isEmpty else { return ([], []) }
        let before = sequencer.chatIDs
        for event in activity {
            switch event {
            case .opened(let chatID, let position): sequencer.follow(chatID: chatID, after: position)
            case .closed(let chatID): sequencer.unfollow(chatID: chatID)
            }
        }
        let after = sequencer.chatIDs
        return (Array(after.subtracting(before)), Array(before.subtracting(after)))
    }

    private func handle(_ reply: RedisReply, sequencer: inout ChatSequencer) {
        guard case .array(let parts) = reply, parts.count == 3, case .string(let kind) = parts[0], case .string(let channel) = parts[1] else {
            return
        }
        let name = channel.dropFirst(prefix.count)
        switch (kind, parts[2]) {
        case ("message", .string(let payload)):
            if let chatID = Int64(name) {
                guard let (seq, frame) = Self.sequenced(payload) else { return }
                deliver(sequencer.receive(chatID: chatID, seq: seq, frame: frame, now: .now))
            } else if name == "revocations", let revocation = TokenRevocation(payload: payload) {
                hub.revoke(revocation)
            } else if name == "events", let event = UserSocketEvent(payload: payload) {
                hub.deliver(event)
            }
        case ("subscribe", _):
            // Heard from now on: read what the chat committed before.
            if let chatID = Int64(name), let gap = sequencer.catchUp(chatID: chatID) { read(gap) }
        default:
            break
        }
    }

    private func deliver(_ deliveries: [ChatSequencer.Delivery]) {
        for delivery in deliveries {
            let committed = pendingFrames.take(chatID: delivery.chatID, seq: delivery.seq)
            guard let frames = MessageFrames(encoded: delivery.frame) else {
                logger.warning("a chat frame from Redis is not one; dropped", metadata: ["chat": "\(delivery.chatID)", "seq": "\(delivery.seq)"])
                continue
            }
            hub.deliver(chatID: delivery.chatID, seq: delivery.seq, frames: frames, committed: committed)
        }
    }

    /// Reads a gap's messages from the database on a task; the answer comes back through the inbox.
    private func read(_ gap: ChatSequencer.Gap) {
        Task { [store, logger] in
            var frames: [(seq: Int64, frame: String)]?
            do {
                let messages = try await store.deliverableMessages(chatID: gap.chatID, afterSeq: gap.afterSeq, limit: Self.gapReadLimit)
                frames = messages.filter { $0.message.seq < gap.beforeSeq }.map { ($0.message.seq, MessageFrames($0).encoded) }
            } catch {
                logger.warning("reading missed messages failed; trying again", metadata: ["chat": "\(gap.chatID)", "error": "\(error)"])
            }
            self.inbox.withLock { $0.filled.append((gap, frames)) }
            self.wake.signal()
        }
    }

    /// A chat frame travels as `<seq> <frame>`: the receiver orders it without parsing the JSON.
    static func sequencedPayload(seq: Int64, frame: String) -> String {
        "\(seq) \(frame)"
    }

    private static func sequenced(_ payload: String) -> (Int64, String)? {
        guard let space = payload.firstIndex(of: " "), let seq = Int64(payload[..<space]) else { return nil }
        return (seq, String(payload[payload.index(after: space)...]))
    }
}

/// A pipe whose only message is "look again": other threads signal it, the subscriber's thread
/// polls it beside the Redis socket.
final class WakePipe: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw RedisError("cannot create a pipe: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
        (readEnd, writeEnd) = (ends[0], ends[1])
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Wakes the poller. A full pipe already holds a wake-up, so a failed write loses nothing.
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Waits until `descriptor` is readable (true), or the pipe is signalled or `timeout` passes
    /// (false); empties the pipe.
    func poll(alongside descriptor: Int32, timeout: Duration) -> Bool {
        var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = Glibc.poll(&fds, 2, max(milliseconds, 0))
        if fds[1].revents != 0 { drain() }
        return fds[0].revents != 0
    }

    /// Sleeps for `duration`, or less if signalled.
    func wait(for duration: Duration) {
        _ = poll(alongside: -1, timeout: duration)
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}
