/// Checks a run's recording against the invariants every chat server must keep:
/// each message reaches each connected participant exactly once and no one else; all participants
/// see one order per chat; the paged history is the live order with no gap and no repeat.
public struct InvariantChecker: Sendable {
    public init() {}

    /// Every violation in the recording, contract violations found during the run included.
    public func check(_ recording: Recording) -> [Violation] {
        recording.contractViolations + delivery(recording) + order(recording) + history(recording)
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
    /// each, in the order the live sockets saw them.
    func history(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        for log in recording.histories {
            let oldestFirst = log.newestFirst.reversed().map(\.content)
            var seen: Set<String> = []
            for content in oldestFirst where !seen.insert(content).inserted {
                violations.append(Violation(kind: .historyRepeat, scenario: recording.scenario, step: log.step, client: log.client, message: content, detail: "appears more than once in the history"))
            }
            for sent in recording.sends where sent.chat == log.chat && sent.sequence < log.sequence && !seen.contains(sent.content) {
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

    private static func firstPositions(_ messages: [SeenMessage]) -> [String: Int] {
        var positions: [String: Int] = [:]
        for (index, message) in messages.enumerated() where positions[message.content] == nil {
            positions[message.content] = index
        }
        return positions
    }
}
