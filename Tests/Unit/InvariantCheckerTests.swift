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

    @Test("a socket that closed before a message was sent is not owed it")
    func closedSocket() {
        var recording = Self.cleanRun()
        recording.sockets[2].closedAt = 11
        recording.sockets[2].received = ["m1"].map { SeenMessage(content: $0) }
        #expect(checker.check(recording).isEmpty)
    }
}
