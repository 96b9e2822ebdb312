/// Puts the frames a node hears back in each chat's `seq` order, once each.
///
/// Nodes publish right after their commit, without a lock, so two nodes' frames of one chat may
/// cross on the way: seq 8 may arrive before seq 7. The sequencer delivers a frame only when every
/// frame before it has been delivered; a frame that arrives early is held. When a gap outlives
/// ``holdBack`` (its frame was lost: a publish failed, Redis restarted), the missing messages are
/// read from the database, where they are sure to be: a `seq` is published only after its commit,
/// and the chat's row lock commits a chat's messages in `seq` order.
///
/// It does no I/O and has no lock: one thread (the Redis subscriber's) owns it, feeds it what it
/// hears and asks it what to deliver, what to fetch, and when to look again.
struct ChatSequencer {
    /// How long a gap may wait for its frame before it is read from the database.
    static let holdBack = Duration.milliseconds(100)
    /// Frames held per chat; beyond it the gap is filled from the database at once.
    static let heldLimit = 1024
    /// How long a chat may be quiet before the database is asked whether its newest frame was lost
    /// (a lost frame with none after it leaves no gap to notice).
    static let quietCheck = Duration.seconds(1)

    /// A frame to hand to the chat's sockets.
    struct Delivery: Equatable {
        let chatID: Int64
        let seq: Int64
        let frame: String
    }

    /// Missing messages to read from the database: every `seq` after `afterSeq`, before `beforeSeq`.
    struct Gap: Equatable {
        let chatID: Int64
        let afterSeq: Int64
        let beforeSeq: Int64
    }

    private struct Stream {
        /// The next `seq` to deliver.
        var next: Int64
        var held: [Int64: String] = [:]
        /// When the oldest gap was noticed; nil while nothing is held.
        var gapSince: ContinuousClock.Instant?
        /// A database read for this gap is under way.
        var fetching = false
        /// When the chat last delivered or was checked; nil once checked while quiet.
        var activeSince: ContinuousClock.Instant?
    }

    private var streams: [Int64: Stream] = [:]

    /// The chats being followed.
    var chatIDs: Set<Int64> { Set(streams.keys) }

    /// Starts following a chat from the message after `position` (what its first socket has seen).
    /// A chat followed already keeps its place.
    mutating func follow(chatID: Int64, after position: Int64) {
        if streams[chatID] == nil { streams[chatID] = Stream(next: position + 1) }
    }

    /// Stops following a chat (its last socket left); what was held is dropped.
    mutating func unfollow(chatID: Int64) {
        streams[chatID] = nil
    }

    /// Takes a frame heard for `seq`: returns what can now be delivered, in order. A frame for a
    /// chat not followed, or already delivered, is dropped.
    mutating func receive(chatID: Int64, seq: Int64, frame: String, now: ContinuousClock.Instant) -> [Delivery] {
        guard var stream = streams[chatID], seq >= stream.next else { return [] }
        stream.activeSince = now
        var deliveries: [Delivery] = []
        if seq == stream.next {
            deliveries.append(Delivery(chatID: chatID, seq: seq, frame: frame))
            stream.next += 1
            Self.release(&stream, chatID: chatID, into: &deliveries)
        } else {
            stream.held[seq] = frame
            if stream.gapSince == nil { stream.gapSince = now }
        }
        if stream.held.isEmpty { stream.gapSince = nil }
        streams[chatID] = stream
        return deliveries
    }

    /// The gaps that waited long enough (or hold too many frames) and are not being read yet;
    /// each is marked as being read.
    mutating func overdueGaps(now: ContinuousClock.Instant) -> [Gap] {
        var gaps: [Gap] = []
        for (chatID, var stream) in streams where !stream.fetching {
            guard let since = stream.gapSince, now - since >= Self.holdBack || stream.held.count >= Self.heldLimit,
                let firstHeld = stream.held.keys.min()
            else { continue }
            stream.fetching = true
            streams[chatID] = stream
            gaps.append(Gap(chatID: chatID, afterSeq: stream.next - 1, beforeSeq: firstHeld))
        }
        return gaps
    }

    /// Asks for every message after the chat's position, held frames or not: a node that just
    /// subscribed reads what was committed before its subscription took effect.
    mutating func catchUp(chatID: Int64) -> Gap? {
        guard var stream = streams[chatID], !stream.fetching else { return nil }
        stream.fetching = true
        streams[chatID] = stream
        return Gap(chatID: chatID, afterSeq: stream.next - 1, beforeSeq: .max)
    }

    /// Takes what the database gave for a gap (`frames` by `seq`, in order): returns what can now
    /// be delivered. An empty answer for a real gap means the database is behind the frames it
    /// announced, which cannot happen; the gap is skipped so the chat does not stall forever.
    mutating func filled(_ gap: Gap, frames: [(seq: Int64, frame: String)], now: ContinuousClock.Instant) -> [Delivery] {
        guard var stream = streams[gap.chatID] else { return [] }
        stream.fetching = false
        var deliveries: [Delivery] = []
        for (seq, frame) in frames where seq >= stream.next {
            stream.held[seq] = frame
        }
        if let firstHeld = stream.held.keys.min(), firstHeld > stream.next, gap.beforeSeq != .max, frames.isEmpty {
            stream.next = firstHeld
        }
        Self.release(&stream, chatID: gap.chatID, into: &deliveries)
        stream.gapSince = stream.held.isEmpty ? nil : now
        // Something was missing: look again after the next quiet spell.
        if !deliveries.isEmpty { stream.activeSince = now }
        streams[gap.chatID] = stream
        return deliveries
    }

    /// A database read for `gap` failed: it is tried again once the hold-back passes.
    mutating func fetchFailed(_ gap: Gap, now: ContinuousClock.Instant) {
        guard var stream = streams[gap.chatID] else { return }
        stream.fetching = false
        if !stream.held.isEmpty { stream.gapSince = now }
        streams[gap.chatID] = stream
    }

    /// The chats quiet for ``quietCheck`` since their last frame, each with the position after which
    /// the database may hold frames lost on the way; each is checked once per quiet spell.
    mutating func quietChats(now: ContinuousClock.Instant) -> [Gap] {
        var gaps: [Gap] = []
        for (chatID, var stream) in streams where !stream.fetching && stream.held.isEmpty {
            guard let since = stream.activeSince, now - since >= Self.quietCheck else { continue }
            stream.activeSince = nil
            stream.fetching = true
            streams[chatID] = stream
            gaps.append(Gap(chatID: chatID, afterSeq: stream.next - 1, beforeSeq: .max))
        }
        return gaps
    }

    /// The earliest moment a held gap becomes overdue or a chat has been quiet long enough, for
    /// the caller's wait.
    func nextDeadline() -> ContinuousClock.Instant? {
        streams.values.compactMap { stream -> ContinuousClock.Instant? in
            guard !stream.fetching else { return nil }
            if let gapSince = stream.gapSince { return gapSince + Self.holdBack }
            return stream.activeSince.map { $0 + Self.quietCheck }
        }.min()
    }

    /// Moves every frame that now follows on from the held ones into `deliveries`.
    private static func release(_ stream: inout Stream, chatID: Int64, into deliveries: inout [Delivery]) {
        while let frame = stream.held.removeValue(forKey: stream.next) {
            deliveries.append(Delivery(chatID: chatID, seq: stream.next, frame: frame))
            stream.next += 1
        }
        // Anything held below `next` was delivered from the database meanwhile.
        stream.held = stream.held.filter { $0.key >= stream.next }
    }
}
