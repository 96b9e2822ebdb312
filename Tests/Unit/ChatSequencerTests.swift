@testable import ChatBackend
import ChatSimulator
import Testing

@Suite("Chat sequencer")
struct ChatSequencerTests {
    private static let chat: Int64 = 7
    private static let start = ContinuousClock.now

    /// Feeds the sequencer `arrivals` (seqs, as Redis hands them over), fills every overdue gap
    /// from a "database" holding 1...`committed`, and returns the seqs delivered, in order.
    private static func deliveries(position: Int64, committed: Int64, arrivals: [Int64]) -> [Int64] {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: chat, after: position)
        var delivered: [Int64] = []
        func take(_ deliveries: [ChatSequencer.Delivery]) {
            delivered += deliveries.map(\.seq)
            #expect(deliveries.allSatisfy { $0.frame == "frame \($0.seq)" })
        }
        var now = start
        for seq in arrivals {
            take(sequencer.receive(chatID: chat, seq: seq, frame: "frame \(seq)", now: now))
            now += .milliseconds(10)
            for gap in sequencer.overdueGaps(now: now) {
                take(sequencer.filled(gap, frames: database(gap, committed: committed), now: now))
            }
        }
        // The stream goes quiet: what is still held waits out the hold-back, then is read; then
        // the quiet chat is checked once for a lost newest frame.
        while let deadline = sequencer.nextDeadline() {
            now = deadline
            for gap in sequencer.overdueGaps(now: now) + sequencer.quietChats(now: now) {
                take(sequencer.filled(gap, frames: database(gap, committed: committed), now: now))
            }
        }
        return delivered
    }

    private static func database(_ gap: ChatSequencer.Gap, committed: Int64) -> [(seq: Int64, frame: String)] {
        guard gap.afterSeq < committed else { return [] }
        return ((gap.afterSeq + 1)...committed).prefix(RedisSubscriber.gapReadLimit).filter { $0 < gap.beforeSeq }.map { ($0, "frame \($0)") }
    }

    @Test("frames in order are delivered at once, each once")
    func inOrder() {
        #expect(Self.deliveries(position: 0, committed: 5, arrivals: [1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5])
    }

    @Test("a frame that arrives early waits for the one before it")
    func crossed() {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 3)
        #expect(sequencer.receive(chatID: Self.chat, seq: 5, frame: "frame 5", now: Self.start).isEmpty)
        #expect(sequencer.receive(chatID: Self.chat, seq: 4, frame: "frame 4", now: Self.start).map(\.seq) == [4, 5])
        #expect(sequencer.nextDeadline() == Self.start + ChatSequencer.quietCheck, "nothing held; a quiet check later")
    }

    @Test("old frames and repeats are dropped; chats not followed are ignored")
    func repeats() {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 10)
        #expect(sequencer.receive(chatID: Self.chat, seq: 10, frame: "old", now: Self.start).isEmpty)
        #expect(sequencer.receive(chatID: Self.chat, seq: 11, frame: "frame 11", now: Self.start).map(\.seq) == [11])
        #expect(sequencer.receive(chatID: Self.chat, seq: 11, frame: "frame 11", now: Self.start).isEmpty)
        #expect(sequencer.receive(chatID: 99, seq: 1, frame: "frame 1", now: Self.start).isEmpty)
    }

    @Test("a lost frame is read from the database once the hold-back passes")
    func lost() {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 0)
        _ = sequencer.receive(chatID: Self.chat, seq: 1, frame: "frame 1", now: Self.start)
        #expect(sequencer.receive(chatID: Self.chat, seq: 3, frame: "frame 3", now: Self.start).isEmpty)
        #expect(sequencer.overdueGaps(now: Self.start + .milliseconds(50)).isEmpty, "still within the hold-back")
        let gaps = sequencer.overdueGaps(now: Self.start + ChatSequencer.holdBack)
        #expect(gaps == [ChatSequencer.Gap(chatID: Self.chat, afterSeq: 1, beforeSeq: 3)])
        #expect(sequencer.overdueGaps(now: Self.start + .seconds(1)).isEmpty, "one read at a time")
        let filled = sequencer.filled(gaps[0], frames: [(2, "frame 2")], now: Self.start + .seconds(1))
        #expect(filled.map(\.seq) == [2, 3])
    }

    @Test("a chat that goes quiet is checked once for a lost newest frame")
    func quietChat() {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 0)
        _ = sequencer.receive(chatID: Self.chat, seq: 1, frame: "frame 1", now: Self.start)
        #expect(sequencer.quietChats(now: Self.start + .milliseconds(500)).isEmpty)
        let gaps = sequencer.quietChats(now: Self.start + ChatSequencer.quietCheck)
        #expect(gaps == [ChatSequencer.Gap(chatID: Self.chat, afterSeq: 1, beforeSeq: .max)])
        #expect(sequencer.filled(gaps[0], frames: [], now: Self.start + .seconds(2)).isEmpty)
        #expect(sequencer.quietChats(now: Self.start + .seconds(10)).isEmpty, "once per quiet spell")
        #expect(sequencer.nextDeadline() == nil)
    }

    @Test("a failed read is tried again")
    func failedRead() throws {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 0)
        _ = sequencer.receive(chatID: Self.chat, seq: 2, frame: "frame 2", now: Self.start)
        let gaps = sequencer.overdueGaps(now: Self.start + .seconds(1))
        let gap = try #require(gaps.first)
        sequencer.fetchFailed(gap, now: Self.start + .seconds(1))
        #expect(sequencer.overdueGaps(now: Self.start + .seconds(2)) == [gap])
    }

    @Test("after a subscription, what was committed before it is read first", arguments: [0, 3])
    func catchUp(alreadyHeard: Int) throws {
        var sequencer = ChatSequencer()
        sequencer.follow(chatID: Self.chat, after: 2)
        let caughtUp = sequencer.catchUp(chatID: Self.chat)
        let gap = try #require(caughtUp)
        #expect(gap == ChatSequencer.Gap(chatID: Self.chat, afterSeq: 2, beforeSeq: .max))
        // Frames heard while the read runs are held (or delivered when they follow on).
        var delivered = (0..<alreadyHeard).flatMap { offset in
            sequencer.receive(chatID: Self.chat, seq: 5 + Int64(offset), frame: "frame \(5 + offset)", now: Self.start).map(\.seq)
        }
        delivered += sequencer.filled(gap, frames: [(3, "frame 3"), (4, "frame 4")], now: Self.start).map(\.seq)
        #expect(delivered == Array(3...(4 + Int64(alreadyHeard))))
    }

    @Test("random arrivals — crossed, repeated and lost frames — come out as 1…N once each, in order", arguments: [
        UInt64(20_261_202), UInt64.random(in: 1...UInt64.max),
    ])
    func random(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let count = Int64(1 + random.next() % 300)
        var arrivals: [Int64] = []
        for seq in 1...count {
            switch random.next() % 10 {
            case 0: break  // lost
            case 1: arrivals += [seq, seq]  // repeated
            default: arrivals.append(seq)
            }
        }
        // Cross neighbours, as two nodes' publishes do.
        for index in arrivals.indices.dropLast() where random.next() % 4 == 0 {
            arrivals.swapAt(index, index + 1)
        }
        #expect(Self.deliveries(position: 0, committed: count, arrivals: arrivals) == Array(1...count), "seed \(seed)")
    }
}
