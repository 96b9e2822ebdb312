// The user socket's invariants (PROTOCOL.md), checked from the recording: what user sockets saw,
// acknowledgements, read markers, and the chat JSON and history read at the end.

extension InvariantChecker {
    /// A message of a chat the socket's user is not in, or sent after the user left it.
    func userSocketDelivery(_ recording: Recording) -> [Violation] {
        let sendOf = Dictionary(recording.sends.map { ($0.content, $0) }, uniquingKeysWith: { first, _ in first })
        var violations: [Violation] = []
        for socket in recording.userSockets {
            let windows = Dictionary(grouping: socket.chats, by: \.chat)
            for case .message(let chat, let message) in socket.frames {
                let sent = sendOf[message.content]
                let detail: String
                if let owed = windows[chat] {
                    guard let sent, owed.allSatisfy({ $0.until.map { sent.sequence > $0 } ?? false }) else { continue }
                    detail = "received a message of chat \(chat) sent after its user had left the chat"
                } else {
                    detail = "received a message of chat \(chat), which its user is not in"
                }
                violations.append(
                    Violation(kind: .misdelivered, scenario: recording.scenario, step: sent?.step ?? "?", client: socket.name, message: message.content, detail: detail)
                )
            }
        }
        return violations
    }

    /// Each acknowledged send is stored exactly once however often it was retried: every ack of a
    /// `client_id` names the same message, each full history read after it holds it once (at the
    /// acknowledged `seq`), and no socket ever receives a retry's text as a message of its own.
    func idempotency(_ recording: Recording) -> [Violation] {
        struct Key: Hashable {
            let client, chat, clientID: String
        }
        var violations: [Violation] = []
        let acks = Dictionary(grouping: recording.acks) { Key(client: $0.client, chat: $0.chat, clientID: $0.clientID) }
        let retries = Dictionary(grouping: recording.retries) { Key(client: $0.client, chat: $0.chat, clientID: $0.clientID) }
        var retryTexts: [String: (first: SentMessage, retry: RetryLog)] = [:]
        for first in recording.sends {
            guard let clientID = first.clientID else { continue }
            let key = Key(client: first.client, chat: first.chat, clientID: clientID)
            func report(_ step: String, _ detail: String) {
                violations.append(Violation(kind: .notIdempotent, scenario: recording.scenario, step: step, client: first.client, message: first.content, detail: detail))
            }
            let answers = acks[key] ?? []
            if let ack = answers.first {
                for other in answers.dropFirst() where other.id != ack.id || other.seq != ack.seq {
                    report(first.step, "client_id '\(clientID)' acknowledged as id \(ack.id) (seq \(ack.seq), \(ack.via)) and as id \(other.id) (seq \(other.seq), \(other.via))")
                }
            }
            let tries = retries[key] ?? []
            for retry in tries where retry.content != first.content { retryTexts[retry.content] = (first, retry) }
            guard let ack = answers.first else { continue }
            for log in recording.histories where log.chat == first.chat && log.sequence > first.sequence && !log.unconfirmed.contains(first.content) {
                let texts = Set([first.content] + tries.filter { $0.sequence < log.sequence }.map(\.content))
                let stored = log.newestFirst.filter { texts.contains($0.content) }
                if stored.isEmpty {
                    report(log.step, "acknowledged as seq \(ack.seq), but \(log.client)'s history does not hold it")
                } else if stored.count > 1 {
                    let seqs = stored.compactMap(\.seq).sorted().map(String.init).joined(separator: ", ")
                    report(log.step, "stored \(stored.count) times (\(log.client)'s history has it at seqs \(seqs)) though sent with one client_id '\(clientID)'")
                } else if let seq = stored[0].seq, seq != ack.seq {
                    report(log.step, "acknowledged as seq \(ack.seq), but \(log.client)'s history has it at seq \(seq)")
                }
            }
        }
        for socket in recording.sockets {
            for message in socket.received {
                guard let (first, retry) = retryTexts[message.content] else { continue }
                violations.append(
                    Violation(
                        kind: .notIdempotent, scenario: recording.scenario, step: retry.step, client: socket.client, message: first.content,
                        detail: "received '\(retry.content)', the text of a retry with client_id '\(retry.clientID)': the retry was stored as a new message"
                    )
                )
            }
        }
        return violations
    }

    /// Each user socket sees each chat's messages exactly once, in `seq` order, from where it
    /// started: every `seq` after its position (hello's `last_seq`, the one it resumed from, or
    /// the `added` event's) up to the chat's last `seq` at the end, when it was still open and in
    /// the chat then. A `resume`'s replay ends with `resumed`, before anything newer.
    func positions(_ recording: Recording) -> [Violation] {
        let stepOf = Dictionary(recording.sends.map { ($0.content, $0.step) }, uniquingKeysWith: { first, _ in first })
        var end: [String: (lastSeq: Int64, sequence: Int)] = [:]
        for state in recording.chatStates where state.source == .end {
            let known = end[state.chat]
            end[state.chat] = (max(known?.lastSeq ?? 0, state.lastSeq), min(known?.sequence ?? Int.max, state.sequence))
        }
        var violations: [Violation] = []
        for socket in recording.userSockets {
            let windowsByChat = Dictionary(grouping: socket.chats, by: \.chat)
            for window in socket.chats where windowsByChat[window.chat]?.count == 1 {
                let (gap, repeated, backwards): (Violation.Kind, Violation.Kind, Violation.Kind) =
                    window.resumed ? (.resumeGap, .resumeRepeat, .resumeOrder) : (.seqGap, .seqRepeat, .reordered)
                func report(_ kind: Violation.Kind, _ message: String, step: String? = nil, _ detail: String) {
                    violations.append(
                        Violation(kind: kind, scenario: recording.scenario, step: step ?? stepOf[message] ?? "?", client: socket.name, message: message, detail: detail)
                    )
                }
                let messages = socket.messages(of: window.chat).filter { $0.seq != nil }
                let truncated = socket.frames.contains { if case .resumed(window.chat, _, true) = $0 { true } else { false } }
                let start = truncated ? nil : window.position.map { $0 + 1 }
                let from = window.resumed ? "the position it resumed from" : "where it started"
                for fault in SeqFault.faults(messages, from: start, outOfOrder: backwards) {
                    let kind = fault.kind == .seqGap ? gap : fault.kind == .seqRepeat ? repeated : fault.kind
                    report(kind, fault.message.content, "in chat \(window.chat): \(fault.detail)")
                }
                if let position = window.position, !truncated {
                    for message in messages where message.seq! <= position {
                        report(repeated, message.content, "in chat \(window.chat): seq \(message.seq!) is at or before \(from), seq \(position)")
                    }
                }
                // The newest messages: owed up to the chat's last seq at the end by a socket still
                // open and in the chat then.
                if let end = end[window.chat], !socket.dropped, window.until == nil, (socket.closedAt ?? .max) > end.sequence,
                    window.from < end.sequence
                {
                    let newest = max(messages.compactMap(\.seq).max() ?? 0, truncated ? 0 : window.position ?? 0)
                    if newest < end.lastSeq {
                        let missing = newest + 1 == end.lastSeq ? "seq \(end.lastSeq) never came" : "seqs \(newest + 1)…\(end.lastSeq) never came"
                        report(gap, "", step: "end", "in chat \(window.chat): \(missing), though the chat's last seq at the end is \(end.lastSeq)")
                    }
                }
                // `resumed` comes after the replay up to its seq, and before anything newer.
                guard window.resumed else { continue }
                var resumedAt: Int64?
                for frame in socket.frames {
                    switch frame {
                    case .resumed(window.chat, let seq, _):
                        resumedAt = seq
                    case .message(window.chat, let message):
                        guard let seq = message.seq else { continue }
                        if let resumedAt, seq <= resumedAt {
                            report(backwards, message.content, "in chat \(window.chat): seq \(seq) came after 'resumed' at seq \(resumedAt)")
                        }
                    default:
                        continue
                    }
                }
                // A connection dropped again before its replay ended never hears `resumed`.
                if resumedAt == nil, !socket.dropped { report(.contract, "", step: "?", "resumed chat \(window.chat), but no 'resumed' frame came") }
                if let resumedAt {
                    let beforeResumed = socket.frames.prefix { if case .resumed(window.chat, _, _) = $0 { false } else { true } }
                    for case .message(window.chat, let message) in beforeResumed where (message.seq ?? 0) > resumedAt {
                        report(backwards, message.content, "in chat \(window.chat): seq \(message.seq!) came before 'resumed' at seq \(resumedAt)")
                    }
                }
            }
        }
        return violations
    }

    /// Read markers never move back: each user's `read_seq` in a chat, as `hello`, read answers
    /// and the chat JSON showed it over the run, and the `read` events each user socket received
    /// of it, only grow; and no `read` event announces more than the marker at the end. A user who
    /// leaves a chat loses their marker with their membership: it starts again if they come back.
    func markers(_ recording: Recording) -> [Violation] {
        struct Key: Hashable {
            let chat, user: String
        }
        var violations: [Violation] = []
        let departed = Set(recording.departures.map { Key(chat: $0.chat, user: $0.user) })
        func report(_ step: String, _ client: String, _ detail: String) {
            violations.append(Violation(kind: .markerBack, scenario: recording.scenario, step: step, client: client, message: "", detail: detail))
        }
        var shown: [Key: ChatStateLog] = [:]
        let events = recording.chatStates.map { (sequence: $0.sequence, state: Optional($0), departure: Departure?.none) }
            + recording.departures.map { (sequence: $0.sequence, state: ChatStateLog?.none, departure: Optional($0)) }
        for event in events.sorted(by: { $0.sequence < $1.sequence }) {
            if let departure = event.departure {
                shown[Key(chat: departure.chat, user: departure.user)] = nil
                continue
            }
            guard let state = event.state else { continue }
            let key = Key(chat: state.chat, user: state.user)
            if let before = shown[key], state.readSeq < before.readSeq {
                report(state.step, state.client, "read_seq of chat \(state.chat) went back from \(before.readSeq) (\(before.source.rawValue), \(before.step)) to \(state.readSeq) (\(state.source.rawValue))")
            }
            shown[key] = state
        }
        var announced: [Key: (seq: Int64, socket: String)] = [:]
        for socket in recording.userSockets {
            var last: [Key: Int64] = [:]
            for case .read(let chat, let user, let seq) in socket.frames {
                let key = Key(chat: chat, user: user)
                if let before = last[key], seq < before {
                    report("?", socket.name, "a 'read' event moved user \(user)'s marker in chat \(chat) back from \(before) to \(seq)")
                }
                last[key] = seq
                if seq > announced[key]?.seq ?? .min { announced[key] = (seq, socket.name) }
            }
        }
        for state in recording.chatStates where state.source == .end {
            let key = Key(chat: state.chat, user: state.user)
            guard !departed.contains(key), let event = announced[key], event.seq > state.readSeq else { continue }
            report(state.step, state.client, "\(event.socket) heard a 'read' event at seq \(event.seq), but read_seq of chat \(state.chat) is \(state.readSeq) at the end")
        }
        return violations
    }

    /// The unread count of each chat JSON read at the end is what the history read right after
    /// says: the messages after the user's `read_seq`, not their own, not deleted; and its
    /// `last_seq` is the history's newest.
    func unread(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        for state in recording.chatStates where state.source == .end {
            guard let history = recording.histories.filter({ $0.chat == state.chat && $0.sequence > state.sequence }).min(by: { $0.sequence < $1.sequence })
            else { continue }
            func report(_ detail: String) {
                violations.append(Violation(kind: .unread, scenario: recording.scenario, step: state.step, client: state.client, message: "", detail: detail))
            }
            let expected = history.newestFirst.filter { ($0.seq ?? 0) > state.readSeq && $0.authorID != state.userID && !$0.deleted }.count
            if state.unread != Int64(expected) {
                report("chat \(state.chat) says unread \(state.unread), but \(history.client)'s history has \(expected) message(s) after read_seq \(state.readSeq) that are not the user's own and not deleted")
            }
            let newest = history.newestFirst.compactMap(\.seq).max() ?? 0
            if state.lastSeq != newest {
                report("chat \(state.chat) says last_seq \(state.lastSeq), but \(history.client)'s history ends at seq \(newest)")
            }
        }
        return violations
    }

    /// Every edit and delete the server accepted shows in each full history read after it: the
    /// message at its `seq` carries the newest content given, or is a tombstone.
    func changes(_ recording: Recording) -> [Violation] {
        var violations: [Violation] = []
        for log in recording.histories {
            var latest: [Int64: MessageChange] = [:]
            for change in recording.changes where change.chat == log.chat && change.sequence < log.sequence {
                if change.sequence > latest[change.seq]?.sequence ?? .min { latest[change.seq] = change }
            }
            for change in latest.values.sorted(by: { $0.sequence < $1.sequence }) {
                let entry = log.newestFirst.first { $0.seq == change.seq }
                let shown = change.content.map { content in entry?.content == content && entry?.deleted == false } ?? (entry?.deleted == true)
                guard !shown else { continue }
                let wanted = change.content.map { "'\($0)'" } ?? "a tombstone"
                let found = entry.map { $0.deleted ? "a tombstone" : "'\($0.content)'" } ?? "nothing"
                violations.append(
                    Violation(kind: .changeLost, scenario: recording.scenario, step: change.step, client: log.client, message: change.original,
                        detail: "\(log.client)'s history (\(log.step)) shows \(found) at seq \(change.seq), not \(wanted)")
                )
            }
        }
        return violations
    }
}

extension Recording {
    /// The recording with every recorded edit and delete undone (``UndoneChanges``).
    func withChangesUndone() -> Recording {
        guard !changes.isEmpty else { return self }
        let undone = UndoneChanges(changes)
        var copy = self
        for index in copy.sockets.indices {
            copy.sockets[index].received = copy.sockets[index].received.map { undone($0, in: copy.sockets[index].chat) }
        }
        for index in copy.histories.indices {
            copy.histories[index].newestFirst = copy.histories[index].newestFirst.map { undone($0, in: copy.histories[index].chat) }
        }
        for index in copy.userSockets.indices {
            copy.userSockets[index].frames = copy.userSockets[index].frames.map { frame in
                guard case .message(let chat, let message) = frame else { return frame }
                return .message(chat: chat, undone(message, in: chat))
            }
        }
        return copy
    }

    /// Each chat of each user socket as a socket of that chat: owed what was sent while it
    /// followed the chat (a dropped socket is owed nothing it did not get), with the messages of
    /// that chat it received.
    func userSocketChannels() -> [SocketLog] {
        userSockets.flatMap { socket in
            socket.chats.map { window in
                let closed = [window.until, socket.closedAt].compactMap { $0 }.min()
                return SocketLog(
                    client: socket.name, chat: window.chat, openedAt: window.from, closedAt: socket.dropped ? window.from : closed,
                    received: socket.messages(of: window.chat)
                )
            }
        }
    }
}

/// Edits and deletes undone: a message shown at a changed `seq` with the change's content, or as
/// a tombstone where a delete was recorded, carries its first content again, so the checks that
/// tell messages apart by content see one message. Anything else a server shows at that `seq`
/// stays as it is, to be caught as a second message with that number.
struct UndoneChanges: Sendable {
    private struct Position: Hashable {
        let chat: String
        let seq: Int64
    }

    private var byPosition: [Position: (original: String, contents: Set<String>, deleted: Bool)] = [:]

    init(_ changes: [MessageChange]) {
        for change in changes {
            let position = Position(chat: change.chat, seq: change.seq)
            var known = byPosition[position] ?? (change.original, [], false)
            if let content = change.content { known.contents.insert(content) } else { known.deleted = true }
            byPosition[position] = known
        }
    }

    /// `message`, of `chat`, with its first content if a recorded change made it what it is.
    func callAsFunction(_ message: SeenMessage, in chat: String) -> SeenMessage {
        guard let seq = message.seq, let known = byPosition[Position(chat: chat, seq: seq)],
            known.contents.contains(message.content) || (message.deleted && known.deleted)
        else { return message }
        var undone = message
        undone.content = known.original
        return undone
    }
}
