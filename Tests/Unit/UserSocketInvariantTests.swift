import ChatSimulator
import Testing

/// The user socket's invariants are themselves checked: recorded runs with a send stored twice,
/// a resume that repeats, skips or reorders, a read marker that goes back and an unread count
/// the history does not bear out must each be flagged with the invariant's name.
@Suite("User-socket invariants")
struct UserSocketInvariantTests {
    static let chat = "chat-t"
    static let ann = (name: "ann", uuid: "uuid-ann", id: Int64(1))
    static let ben = (name: "ben", uuid: "uuid-ben", id: Int64(2))

    static func message(_ n: Int64) -> SeenMessage {
        SeenMessage(content: "m\(n)", authorID: ann.id, seq: n)
    }

    /// Ann sends m1…m4 with client ids k1…k4 on her user socket (acknowledged as ids 101…104,
    /// seqs 1…4). Ben's user socket drops after m2; his next one resumes from seq 2 and is
    /// replayed m3 and m4, then `resumed`. Ben reads up to 2 (Ann hears it). At the end: the chat
    /// JSON of each, and the history.
    static func cleanRun() -> Recording {
        var recording = Recording(scenario: "recorded")
        recording.sends = (1...4).map { n in
            SentMessage(sequence: 10 + n, step: "step \(n) (send)", client: ann.name, chat: chat, content: "m\(n)", clientID: "k\(n)")
        }
        recording.acks = (1...4).map { n in
            AckLog(client: ann.name, chat: chat, clientID: "k\(n)", id: Int64(100 + n), seq: Int64(n), via: "user socket 1")
        }
        let all = (1...4).map { message(Int64($0)) }
        recording.userSockets = [
            UserSocketLog(
                client: ann.name, user: ann.uuid, number: 1, openedAt: 5, chats: [ChatWindow(chat: chat, from: 5, position: 0)],
                frames: all.map { .message(chat: chat, $0) } + [.read(chat: chat, user: ben.uuid, seq: 1), .read(chat: chat, user: ben.uuid, seq: 2)]
            ),
            UserSocketLog(
                client: ben.name, user: ben.uuid, number: 2, openedAt: 6, closedAt: 13, dropped: true, chats: [ChatWindow(chat: chat, from: 6, position: 0)],
                frames: all.prefix(2).map { .message(chat: chat, $0) }
            ),
            UserSocketLog(
                client: ben.name, user: ben.uuid, number: 3, openedAt: 20, chats: [ChatWindow(chat: chat, from: 20, position: 2, resumed: true)],
                frames: all.suffix(2).map { .message(chat: chat, $0) } + [.resumed(chat: chat, seq: 4, truncated: false)]
            ),
        ]
        recording.chatStates = [
            state(ben, sequence: 21, readSeq: 1, unread: 3, source: .readAnswer),
            state(ben, sequence: 22, readSeq: 2, unread: 2, source: .readAnswer),
            state(ann, sequence: 30, readSeq: 0, unread: 0, source: .end),
            state(ben, sequence: 31, readSeq: 2, unread: 2, source: .end),
        ]
        recording.histories = [HistoryLog(sequence: 32, step: "end", client: ann.name, chat: chat, newestFirst: all.reversed())]
        return recording
    }

    static func state(
        _ who: (name: String, uuid: String, id: Int64), sequence: Int, lastSeq: Int64 = 4, readSeq: Int64, unread: Int64, source: ChatStateLog.Source
    ) -> ChatStateLog {
        ChatStateLog(
            sequence: sequence, step: source == .end ? "end" : "step \(sequence) (read)", client: who.name, userID: who.id, user: who.uuid, chat: chat,
            lastSeq: lastSeq, readSeq: readSeq, unread: unread, source: source
        )
    }

    let checker = InvariantChecker()

    @Test("a clean run has no violation")
    func clean() {
        #expect(checker.check(Self.cleanRun()).isEmpty, "\(checker.check(Self.cleanRun()))")
    }

    @Test("a history read before m4's ack came does not owe m4; read after it, it does")
    func unconfirmedSendNotOwed() {
        var early = Self.cleanRun()
        let beforeAck = HistoryLog(
            sequence: 15, step: "step 5 (history)", client: Self.ben.name, chat: Self.chat, newestFirst: (1...3).reversed().map { Self.message(Int64($0)) },
            unconfirmed: ["m4"]
        )
        early.histories.insert(beforeAck, at: 0)
        #expect(checker.check(early).isEmpty, "\(checker.check(early))")
        early.histories[0].unconfirmed = []
        let violations = checker.check(early)
        #expect(violations.contains { $0.kind == .notIdempotent && $0.message == "m4" }, "\(violations)")
        #expect(violations.contains { $0.kind == .historyGap && $0.message == "m4" }, "\(violations)")
    }

    @Test("a retry acknowledged with another id is flagged as not idempotent, naming the send")
    func ackMismatch() throws {
        var recording = Self.cleanRun()
        recording.acks.append(AckLog(client: Self.ann.name, chat: Self.chat, clientID: "k2", id: 999, seq: 9, via: "user socket 4"))
        let violation = try #require(checker.check(recording).first { $0.kind == .notIdempotent })
        #expect(violation.message == "m2" && violation.client == "ann" && violation.detail.contains("id 999"), "\(violation)")
    }

    @Test("a retry stored as a second message is flagged in the history and on the sockets that got it")
    func retryStoredAgain() {
        var recording = Self.cleanRun()
        recording.retries = [RetryLog(sequence: 15, step: "step 5 (retry)", client: "ann", chat: Self.chat, clientID: "k3", content: "m3 again")]
        recording.histories[0].newestFirst.insert(SeenMessage(content: "m3 again", authorID: Self.ann.id, seq: 5), at: 0)
        recording.userSockets[0].frames.append(.message(chat: Self.chat, SeenMessage(content: "m3 again", seq: 5)))
        let violations = checker.check(recording).filter { $0.kind == .notIdempotent }
        #expect(violations.contains { $0.step == "end" && $0.detail.contains("stored 2 times") }, "\(violations)")
        #expect(violations.contains { $0.client == "ann (user socket 1)" && $0.step == "step 5 (retry)" }, "\(violations)")
    }

    @Test("a send retried with the same text and stored twice is flagged, as a history repeat too")
    func sameTextStoredTwice() {
        var recording = Self.cleanRun()
        recording.retries = [RetryLog(sequence: 15, step: "step 5 (retry)", client: "ann", chat: Self.chat, clientID: "k4", content: "m4")]
        recording.histories[0].newestFirst.insert(SeenMessage(content: "m4", authorID: Self.ann.id, seq: 5), at: 0)
        let kinds = Set(checker.check(recording).map(\.kind))
        #expect(kinds.isSuperset(of: [.notIdempotent, .historyRepeat]), "\(kinds)")
    }

    @Test("a resume that replays a message twice is a resume repeat")
    func resumeRepeat() {
        var recording = Self.cleanRun()
        recording.userSockets[2].frames.insert(.message(chat: Self.chat, Self.message(3)), at: 1)
        #expect(checker.check(recording).contains { $0.kind == .resumeRepeat && $0.client == "ben (user socket 3)" && $0.message == "m3" })
    }

    @Test("a resume that replays what was seen before its position is a resume repeat")
    func resumeFromTooFarBack() {
        var recording = Self.cleanRun()
        recording.userSockets[2].frames.insert(.message(chat: Self.chat, Self.message(2)), at: 0)
        let violation = checker.check(recording).first { $0.kind == .resumeRepeat }
        #expect(violation?.message == "m2" && violation?.detail.contains("at or before") == true, "\(String(describing: violation))")
    }

    @Test("a resume that skips a message is a resume gap, in the middle and at the end")
    func resumeGap() {
        var middle = Self.cleanRun()
        middle.userSockets[2].frames.remove(at: 0)
        #expect(checker.check(middle).contains { $0.kind == .resumeGap && $0.detail.contains("seq 3") })
        var end = Self.cleanRun()
        end.userSockets[2].frames.remove(at: 1)
        #expect(checker.check(end).contains { $0.kind == .resumeGap && $0.step == "end" && $0.detail.contains("seq 4 never came") })
    }

    @Test("a resume out of seq order, or a message on the wrong side of resumed, is a resume order fault")
    func resumeOrder() {
        var swapped = Self.cleanRun()
        swapped.userSockets[2].frames.swapAt(0, 1)
        #expect(checker.check(swapped).contains { $0.kind == .resumeOrder && $0.detail.contains("seq 3 came after seq 4") })
        var early = Self.cleanRun()
        early.userSockets[2].frames.swapAt(1, 2)
        #expect(checker.check(early).contains { $0.kind == .resumeOrder && $0.detail.contains("after 'resumed'") })
    }

    @Test("a socket that did not resume is held to its hello position: a gap there is a seq gap")
    func livePositionGap() {
        var recording = Self.cleanRun()
        recording.userSockets[0].frames.remove(at: 0)
        let violations = checker.check(recording)
        #expect(violations.contains { $0.kind == .seqGap && $0.client == "ann (user socket 1)" && $0.detail.contains("seq 1") })
        #expect(violations.contains { $0.kind == .lost && $0.message == "m1" })
    }

    @Test("a dropped socket is owed nothing it had not received, not even 'resumed'; an open one is owed 'resumed'")
    func droppedOwesNothing() {
        var recording = Self.cleanRun()
        recording.userSockets[1].frames.removeLast()
        #expect(checker.check(recording).isEmpty)
        var unanswered = Self.cleanRun()
        unanswered.userSockets[2].frames.removeLast()
        #expect(checker.check(unanswered).contains { $0.kind == .contract && $0.detail.contains("no 'resumed'") })
        unanswered.userSockets[2].dropped = true
        unanswered.userSockets[2].closedAt = 25
        #expect(checker.check(unanswered).isEmpty)
    }

    @Test("a read event that goes back is flagged; so is a read_seq that goes back in the chat JSON")
    func markerBack() {
        var event = Self.cleanRun()
        event.userSockets[0].frames.append(.read(chat: Self.chat, user: Self.ben.uuid, seq: 1))
        #expect(checker.check(event).contains { $0.kind == .markerBack && $0.client == "ann (user socket 1)" && $0.detail.contains("back from 2 to 1") })
        var json = Self.cleanRun()
        json.chatStates[3].readSeq = 1
        json.chatStates[3].unread = 3
        let violations = checker.check(json).filter { $0.kind == .markerBack }
        #expect(violations.contains { $0.client == "ben" && $0.detail.contains("went back from 2") }, "\(violations)")
        #expect(violations.contains { $0.detail.contains("heard a 'read' event at seq 2") }, "\(violations)")
    }

    @Test("a marker that starts again after its user left the chat is not a step back")
    func markerAfterLeaving() {
        var recording = Self.cleanRun()
        recording.departures = [Departure(sequence: 25, user: Self.ben.uuid, chat: Self.chat)]
        recording.chatStates[3].readSeq = 0
        recording.chatStates[3].unread = 4
        #expect(!checker.check(recording).contains { $0.kind == .markerBack })
    }

    @Test("an unread count or last_seq the history does not bear out is flagged")
    func wrongUnread() {
        var unread = Self.cleanRun()
        unread.chatStates[3].unread = 3
        let violation = checker.check(unread).first { $0.kind == .unread }
        #expect(violation?.client == "ben" && violation?.detail.contains("unread 3") == true, "\(String(describing: violation))")
        var own = Self.cleanRun()
        own.chatStates[2].unread = 4
        #expect(checker.check(own).contains { $0.kind == .unread && $0.client == "ann" }, "one's own messages are never unread")
        var last = Self.cleanRun()
        last.chatStates[2].lastSeq = 5
        #expect(checker.check(last).contains { $0.kind == .unread && $0.detail.contains("last_seq 5") })
    }

    @Test("a tombstone is not unread, and an edit or delete shows in the history")
    func changes() {
        var recording = Self.cleanRun()
        recording.changes = [
            MessageChange(sequence: 16, step: "step 6 (edit)", chat: Self.chat, seq: 3, original: "m3", content: "m3 fixed"),
            MessageChange(sequence: 17, step: "step 7 (delete)", chat: Self.chat, seq: 4, original: "m4", content: nil),
        ]
        recording.histories[0].newestFirst[0] = SeenMessage(content: "", authorID: Self.ann.id, seq: 4, deleted: true)
        recording.histories[0].newestFirst[1] = SeenMessage(content: "m3 fixed", authorID: Self.ann.id, seq: 3)
        recording.chatStates[3].unread = 1
        #expect(checker.check(recording).isEmpty, "\(checker.check(recording))")

        var lost = recording
        lost.histories[0].newestFirst[1] = Self.message(3)
        #expect(checker.check(lost).contains { $0.kind == .changeLost && $0.message == "m3" && $0.detail.contains("'m3 fixed'") })
    }

    @Test("a message sent after its user left the chat, or of a chat they are not in, is misdelivered")
    func afterLeaving() {
        var recording = Self.cleanRun()
        recording.userSockets[2].chats[0].until = 22
        recording.sends.append(SentMessage(sequence: 23, step: "step 9 (send)", client: "ann", chat: Self.chat, content: "m5"))
        recording.userSockets[2].frames.append(.message(chat: Self.chat, SeenMessage(content: "m5", seq: 5)))
        recording.userSockets[2].frames.append(.message(chat: "chat-x", SeenMessage(content: "elsewhere", seq: 1)))
        let misdelivered = checker.check(recording).filter { $0.kind == .misdelivered }
        #expect(misdelivered.contains { $0.message == "m5" && $0.detail.contains("after its user had left") }, "\(misdelivered)")
        #expect(misdelivered.contains { $0.message == "elsewhere" && $0.detail.contains("not in") }, "\(misdelivered)")
    }
}
