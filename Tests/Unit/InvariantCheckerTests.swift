import ChatSimulator
import Testing

/// The checker is itself checked: recorded runs with one delivery dropped, one duplicated and two
/// swapped must each be flagged, naming the scenario, step, client and message.
@Suite("Invariant checker")
struct InvariantCheckerTests {
    /// Three members of one chat, each connected throughout, each receiving m1…m4 in order, and a
    /// full history read at the end; plus a socket of another chat.
    static func cleanRun() -> Recording {
        var recording = Recording(scenario: "recorded")
        let contents = ["m1", "m2", "m3", "m4"]
        recording.sends = contents.enumerated().map {
            SentMessage(sequence: 10 + $0.offset, step: "step \($0.offset + 1) (send)", client: "ann", chat: "chat-a", content: $0.element)
        }
        for client in ["ann", "ben", "cat"] {
            recording.sockets.append(SocketLog(client: client, chat: "chat-a", openedAt: 1, received: contents.map { SeenMessage(content: $0) }))
        }
        recording.sockets.append(SocketLog(client: "dan", chat: "chat-b", openedAt: 1, received: []))
        recording.histories.append(
            HistoryLog(sequence: 100, step: "step 9 (history)", client: "ben", chat: "chat-a", newestFirst: contents.reversed().map { SeenMessage(content: $0) })
        )
        return recording
    }

    /// The clean run from a server that numbers messages: m1…m4 carry seq 1…4 everywhere.
    static func numberedRun(seqs: [String: Int64] = ["m1": 1, "m2": 2, "m3": 3, "m4": 4]) -> Recording {
        var recording = cleanRun()
        func numbered(_ messages: [SeenMessage]) -> [SeenMessage] {
            messages.map { SeenMessage(content: $0.content, seq: seqs[$0.content]) }
        }
        for index in recording.sockets.indices { recording.sockets[index].received = numbered(recording.sockets[index].received) }
        for index in recording.histories.indices { recording.histories[index].newestFirst = numbered(recording.histories[index].newestFirst) }
        return recording
    }

    let checker = InvariantChecker()

    @Test("a clean run has no violation")
    func clean() {
        #expect(checker.check(Self.cleanRun()).isEmpty)
    }

    @Test("one dropped delivery is flagged as lost, naming scenario, step, client and message")
    func dropped() throws {
        var recording = Self.cleanRun()
        recording.sockets[1].received.remove(at: 2)
        let violations = checker.check(recording)
        let lost = try #require(violations.first { $0.kind == .lost })
        #expect(violations.filter { $0.kind == .lost }.count == 1)
        #expect(lost.scenario == "recorded" && lost.step == "step 3 (send)" && lost.client == "ben" && lost.message == "m3")
        #expect(lost.description.contains("ben") && lost.description.contains("m3") && lost.description.contains("step 3"))
    }

    @Test("one duplicated delivery is flagged")
    func duplicated() {
        var recording = Self.cleanRun()
        recording.sockets[2].received.insert(SeenMessage(content: "m2"), at: 2)
        let violations = checker.check(recording).filter { $0.kind == .duplicated }
        #expect(violations.count == 1)
        #expect(violations.first?.client == "cat" && violations.first?.message == "m2")
    }

    @Test("two swapped deliveries are flagged as reordered")
    func swapped() {
        var recording = Self.cleanRun()
        recording.sockets[1].received.swapAt(1, 2)
        let violations = checker.check(recording)
        #expect(violations.contains { $0.kind == .reordered && $0.client == "ben" })
        #expect(violations.contains { $0.kind == .historyOrder && $0.client == "ben" })
        #expect(!violations.contains { $0.kind == .lost || $0.kind == .duplicated })
    }

    @Test("a message delivered to another chat's socket is flagged")
    func misdelivered() {
        var recording = Self.cleanRun()
        recording.sockets[3].received.append(SeenMessage(content: "m1"))
        #expect(checker.check(recording).contains { $0.kind == .misdelivered && $0.client == "dan" })
    }

    @Test("a history with a gap or a repeat is flagged")
    func historyFaults() {
        var gap = Self.cleanRun()
        gap.histories[0].newestFirst.remove(at: 1)
        #expect(checker.check(gap).contains { $0.kind == .historyGap && $0.message == "m3" })
        var repeated = Self.cleanRun()
        repeated.histories[0].newestFirst.insert(SeenMessage(content: "m4"), at: 1)
        #expect(checker.check(repeated).contains { $0.kind == .historyRepeat && $0.message == "m4" })
    }

    @Test("a history read before any client saw a send stored does not owe it; one read after does")
    func unconfirmedSendNotOwed() {
        // A slow server: m4 was sent, and no client had it (nor its ack) when the read began.
        var early = Self.cleanRun()
        early.histories[0].newestFirst.removeFirst()
        early.histories[0].unconfirmed = ["m4"]
        #expect(checker.check(early).isEmpty, "\(checker.check(early))")
        // The same history, with m4 seen stored before the read: a gap.
        var confirmed = early
        confirmed.histories[0].unconfirmed = []
        #expect(checker.check(confirmed).contains { $0.kind == .historyGap && $0.message == "m4" })
        // Unconfirmed sends still owe their order and their single copy.
        var repeated = Self.cleanRun()
        repeated.histories[0].newestFirst.insert(SeenMessage(content: "m3"), at: 0)
        repeated.histories[0].unconfirmed = ["m3"]
        #expect(checker.check(repeated).contains { $0.kind == .historyRepeat && $0.message == "m3" })
    }

    @Test("a socket that closed before a message was sent is not owed it")
    func closedSocket() {
        var recording = Self.cleanRun()
        recording.sockets[2].closedAt = 11
        recording.sockets[2].received = ["m1"].map { SeenMessage(content: $0) }
        #expect(checker.check(recording).isEmpty)
    }

    @Test("a numbered clean run has no violation")
    func numberedClean() {
        #expect(checker.check(Self.numberedRun()).isEmpty)
    }

    @Test("a skipped seq is flagged on every socket and in the history, though every message arrived")
    func seqGap() throws {
        let recording = Self.numberedRun(seqs: ["m1": 1, "m2": 2, "m3": 4, "m4": 5])
        let violations = checker.check(recording)
        let gaps = violations.filter { $0.kind == .seqGap }
        #expect(Set(gaps.map(\.client)) == ["ann", "ben", "cat"])
        #expect(gaps.count == 4, "each socket and the history: \(gaps)")
        let history = try #require(gaps.first { $0.step == "step 9 (history)" })
        #expect(history.message == "m3" && history.detail.contains("seq 3"))
        let live = try #require(gaps.first { $0.client == "ann" })
        #expect(live.step == "step 3 (send)" && live.message == "m3")
        #expect(!violations.contains { $0.kind != .seqGap })
    }

    @Test("a history that does not start at seq 1 has a gap")
    func historyStartsAtOne() {
        var recording = Self.numberedRun()
        recording.histories[0].newestFirst.removeLast()
        #expect(checker.check(recording).contains { $0.kind == .seqGap && $0.client == "ben" && $0.detail.contains("seq 1 is missing") })
    }

    @Test("a seq seen twice, or naming two messages, is flagged as a repeat")
    func seqRepeat() {
        var duplicated = Self.numberedRun()
        duplicated.sockets[2].received.insert(SeenMessage(content: "m2", seq: 2), at: 2)
        #expect(checker.check(duplicated).contains { $0.kind == .seqRepeat && $0.client == "cat" && $0.message == "m2" })
        let shared = checker.check(Self.numberedRun(seqs: ["m1": 1, "m2": 2, "m3": 3, "m4": 3]))
        #expect(shared.contains { $0.kind == .seqRepeat && $0.detail.contains("names both 'm3' and 'm4'") })
    }

    @Test("seqs arriving out of order are flagged as reordered, not as a gap")
    func seqOrder() {
        var recording = Self.numberedRun()
        for index in recording.sockets.indices where recording.sockets[index].chat == "chat-a" {
            recording.sockets[index].received.swapAt(1, 2)
        }
        let violations = checker.check(recording)
        #expect(violations.contains { $0.kind == .reordered && $0.detail.contains("seq 2 came after seq 3") })
        #expect(!violations.contains { $0.kind == .seqGap || $0.kind == .seqRepeat })
    }
}
