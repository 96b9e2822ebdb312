/// Checks a run's recording against the invariants every chat server must keep:
/// each message reaches each connected participant exactly once and no one else; all participants
/// see one order per chat; the paged history is the live order with no gap and no repeat; and,
/// from servers that number messages, every chat's `seq` numbers run 1, 2, 3, … with no gap and
/// no repeat in what each client saw.
///
/// User sockets (`/ws/`) are held to the same, chat by chat, and to their own promises
/// (`InvariantChecker+UserSocket.swift`): an acknowledged send is stored once however often it is
/// retried, a socket sees each chat exactly once in `seq` order from where it started or resumed,
/// read markers never move back, and unread counts are what the history says.
public struct InvariantChecker: Sendable {
    public init() {}

    /// Every violation in the recording, contract violations found during the run included.
    public func check(_ recording: Recording) -> [Violation] {
        // Messages are told apart by their content: an edited or deleted one gets its first
        // content back first, so that it stays one message to the checks below.
        let undone = recording.withChangesUndone()
        // Each chat a user socket follows is checked as a socket of that chat.
        var all = undone
        all.sockets += undone.userSocketChannels()
        return recording.contractViolations + delivery(all) + order(all) + history(all) + numbering(undone, alsoNaming: all.sockets)
            + userSocketDelivery(undone) + idempotency(all) + positions(undone) + markers(undone) + unread(undone) + changes(recording)
    }

    /// Exactly once to every socket of the message's chat that was open when it was sent; never to another.
    func delivery(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        for socket in recording.sockets {
            var counts: [String: Int] = [:]
            for message in socket.received { counts[message.content, default: 0] += 1 }
            for sent in recording.sends {
                let count = counts[sent.content] ?? 0
                let expected = sent.chat == socket.chat && socket.wasOpen(at: sent.sequence)
                let problem: (Violation.Kind, String)? =
                    if sent.chat != socket.chat, count > 0 {
                        (.misdelivered, "received a message of chat \(sent.chat) on a socket of chat \(socket.chat)")
                    } else if expected, count == 0 {
                        (.lost, "never received it, though connected to its chat when it was sent")
                    } else if count > 1 {
                        (.duplicated, "received it \(count) times")
                    } else {
                        nil
                    }
                if let (kind, detail) = problem {
                    violations.append(
                        Violation(kind: kind, scenario: recording.scenario, step: sent.step, client: socket.client, message: sent.content, detail: detail)
                    )
                }
            }
        }
        return violations
    }

    /// Every socket of a chat sees the chat's messages in one order. Each socket is compared with
    /// the chat's socket that received the most (ties: the first): their shared messages must come
    /// in the same order. Two sockets that disagree on a pair disagree with it on that pair too,
    /// unless it missed one of them, which `delivery` reports.
    func order(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        let stepOf = Dictionary(recording.sends.map { ($0.content, $0.step) }, uniquingKeysWith: { first, _ in first })
        for (_, sockets) in Dictionary(grouping: recording.sockets, by: \.chat).sorted(by: { $0.key < $1.key }) {
            guard let reference = sockets.max(by: { $0.received.count < $1.received.count }) else { continue }
            let referencePosition = Self.firstPositions(reference.received)
            for socket in sockets where socket != reference {
                let shared = socket.received.map(\.content).filter { referencePosition[$0] != nil }
                for (earlier, later) in zip(shared, shared.dropFirst()) where referencePosition[earlier]! > referencePosition[later]! {
                    violations.append(
                        Violation(
                            kind: .reordered, scenario: recording.scenario, step: stepOf[later] ?? "?", client: socket.client, message: later,
                            detail: "received '\(earlier)' before '\(later)'; \(reference.client) received them the other way round"
                        )
                    )
                }
            }
        }
        return violations
    }

    /// A chat's history, read in full, holds every message sent to the chat before the read, once
    /// each, in the order the live sockets saw them. A send no client had seen stored when the read
    /// began is not owed (a slow server may still be storing it; whether it arrives is the
    /// deliveries' check).
    func history(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        for log in recording.histories {
            let oldestFirst = log.newestFirst.reversed().map(\.content)
            var seen: Set<String> = []
            for content in oldestFirst where !seen.insert(content).inserted {
                violations.append(Violation(kind: .historyRepeat, scenario: recording.scenario, step: log.step, client: log.client, message: content, detail: "appears more than once in the history"))
            }
            for sent in recording.sends
            where sent.chat == log.chat && sent.sequence < log.sequence && !seen.contains(sent.content) && !log.unconfirmed.contains(sent.content) {
                violations.append(Violation(kind: .historyGap, scenario: recording.scenario, step: log.step, client: log.client, message: sent.content, detail: "missing from the history (sent at \(sent.step))"))
            }
            let historyPosition = Self.firstPositions(oldestFirst.map { SeenMessage(content: $0) })
            for socket in recording.sockets where socket.chat == log.chat {
                let live = socket.received.map(\.content).filter { historyPosition[$0] != nil }
                for (earlier, later) in zip(live, live.dropFirst()) where historyPosition[earlier]! > historyPosition[later]! {
                    violations.append(Violation(kind: .historyOrder, scenario: recording.scenario, step: log.step, client: socket.client, message: later, detail: "live order had '\(earlier)' before '\(later)'; the history has them the other way round"))
                }
            }
        }
        return violations
    }

    /// Where messages carry `seq`: each socket saw a run of consecutive numbers, in order, from
    /// wherever it joined; each full history is 1…N; and one chat's number names one message.
    /// Unlike the checks above, this catches a message that was lost for everyone, even one no
    /// recorded client sent.
    func numbering(_ recording: Recording, alsoNaming channels: [SocketLog]? = nil) -> [Violation] {
        let stepOf = Dictionary(recording.sends.map { ($0.content, $0.step) }, uniquingKeysWith: { first, _ in first })
        var violations: [Violation] = []
        func report(_ fault: SeqFault, step: String?, client: String, detail: String? = nil) {
            violations.append(
                Violation(
                    kind: fault.kind, scenario: recording.scenario, step: step ?? stepOf[fault.message.content] ?? "?", client: client,
                    message: fault.message.content, detail: detail ?? fault.detail
                )
            )
        }
        for socket in recording.sockets {
            for fault in SeqFault.faults(socket.received, from: nil, outOfOrder: .reordered) {
                report(fault, step: nil, client: socket.client)
            }
        }
        for log in recording.histories {
            for fault in SeqFault.faults(log.newestFirst.reversed(), from: 1, outOfOrder: .historyOrder) {
                report(fault, step: log.step, client: log.client, detail: "in the history: " + fault.detail)
            }
        }
        // User sockets' numbers are checked from where each started (``positions(_:)``); here
        // they only take part in "one number names one message".
        let seenByChat = (channels ?? recording.sockets).map { ($0.chat, $0.client, $0.received) }
            + recording.histories.map { ($0.chat, $0.client, $0.newestFirst) }
        var named: [String: [Int64: String]] = [:]
        for (chat, client, messages) in seenByChat {
            for message in messages {
                guard let seq = message.seq else { continue }
                let first = named[chat, default: [:]][seq, default: message.content]
                named[chat, default: [:]][seq] = first
                if first != message.content {
                    report(SeqFault(.seqRepeat, message, "seq \(seq) names both '\(first)' and '\(message.content)'"), step: nil, client: client)
                }
            }
        }
        return violations
    }

    private static func firstPositions(_ messages: [SeenMessage]) -> [String: Int] {
        var positions: [String: Int] = [:]
        for (index, message) in messages.enumerated() where positions[message.content] == nil {
            positions[message.content] = index
        }
        return positions
    }
}

/// One fault in the `seq` numbers a client saw.
struct SeqFault {
    let kind: Violation.Kind
    let message: SeenMessage
    let detail: String

    init(_ kind: Violation.Kind, _ message: SeenMessage, _ detail: String) {
        self.kind = kind
        self.message = message
        self.detail = detail
    }

    /// The faults of one client's numbers, oldest first (messages without `seq` are skipped): a
    /// seq seen twice, a seq lower than the one before it (`outOfOrder`), and the seqs missing
    /// between `first` (or the lowest seen) and the highest, each run of them named once, by the
    /// message after it.
    static func faults(_ oldestFirst: some Sequence<SeenMessage>, from first: Int64?, outOfOrder: Violation.Kind) -> [SeqFault] {
        let numbered = oldestFirst.compactMap { message in message.seq.map { (seq: $0, message: message) } }
        var faults: [SeqFault] = []
        var bySeq: [Int64: SeenMessage] = [:]
        for (index, (seq, message)) in numbered.enumerated() {
            if bySeq[seq] == nil {
                bySeq[seq] = message
            } else {
                faults.append(SeqFault(.seqRepeat, message, "seq \(seq) seen again"))
            }
            if index > 0, seq < numbered[index - 1].seq {
                faults.append(SeqFault(outOfOrder, message, "seq \(seq) came after seq \(numbered[index - 1].seq)"))
            }
        }
        var expected = first ?? numbered.map(\.seq).min() ?? 1
        for seq in bySeq.keys.sorted() {
            if seq > expected {
                let missing = expected == seq - 1 ? "seq \(expected) is" : "seqs \(expected)…\(seq - 1) are"
                faults.append(SeqFault(.seqGap, bySeq[seq]!, "\(missing) missing before seq \(seq)"))
            }
            expected = max(expected, seq + 1)
        }
        return faults
    }
}
