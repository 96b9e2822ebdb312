import ChatBackend

// What the runner records and checks as steps go: messages sent, sockets opened and closed,
// answers against the contract.
extension ScenarioRunner {
    static let chatDetailFields = ["id", "uuid", "name", "is_group_chat", "participants", "last_activity_date", "lastmessage"]

    /// Sends a message on a socket and records it as sent by `actor` in this step.
    func post(_ content: String, from actor: String, socket: ChatSocket, chat uuid: String) {
        sequence += 1
        messageCount += 1
        recording.sends.append(SentMessage(sequence: sequence, step: currentStep, client: username(actor), chat: uuid, content: content))
        socket.send(["command": "new_message", "message": .string(content)])
    }

    /// A unique, reproducible message: the author, a counter, and seeded words (or the scenario's text).
    func nextContent(author: String, text: String?) -> String {
        let words = ["hello", "lunch", "tomorrow", "deploy", "coffee", "ok", "ship it", "see you", "why", "great"]
        let body = text ?? (0..<3).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
        return "\(body) ·\(author)#\(messageCount + 1)"
    }

    /// Records a socket opened by `actor` on `chatName` and keeps it for later steps.
    func opened(_ socket: ChatSocket, actor: String, chatName: String, chat uuid: String) {
        sequence += 1
        recording.sockets.append(SocketLog(client: username(actor), chat: uuid, openedAt: sequence))
        let index = recording.sockets.count - 1
        socketObjects[index] = socket
        sockets["\(actor)/\(chatName)"] = OpenSocket(socket: socket, logIndex: index)
    }

    /// Waits until every open socket (of `chat`, or of every chat) has every message it should
    /// have; and every user socket the answers to its sends, and, for each chat it follows, every
    /// message sent since it followed the chat and every `seq` up to the newest any client has seen.
    func settle(chat uuid: String?) async {
        // One deadline for all sockets: a server that lost messages costs one timeout, not one per socket.
        let deadline = ContinuousClock.now + environment.settleTimeout
        // First the answers to user sockets' sends: a send refused for now is sent again, and only
        // then can the others get it.
        for (_, open) in userSockets {
            let keys = keyedSends.filter { $0.value.sockets.last == open.logIndex && (uuid == nil || $0.value.chat == uuid) }.keys
            await awaitAnswers(Array(keys), on: open, until: deadline)
        }
        for (_, open) in sockets {
            let log = recording.sockets[open.logIndex]
            guard uuid == nil || log.chat == uuid else { continue }
            let expected = Set(recording.sends.filter { $0.chat == log.chat && log.wasOpen(at: $0.sequence) }.map(\.content))
            _ = await open.socket.wait(timeout: max(deadline - ContinuousClock.now, .zero)) { frames in
                let got = Set(frames.compactMap { $0.frame["message"]?["content"]?.stringValue })
                return expected.isSubset(of: got)
            }
        }
        let undone = UndoneChanges(recording.changes)
        for (_, open) in userSockets {
            for window in recording.userSockets[open.logIndex].chats where window.until == nil && (uuid == nil || window.chat == uuid) {
                let chat = window.chat
                let expected = Set(recording.sends.filter { $0.chat == chat && $0.sequence > window.from }.map(\.content))
                let newest = knownLastSeq(of: chat)
                _ = await open.socket.wait(timeout: max(deadline - ContinuousClock.now, .zero)) { frames in
                    var got: Set<String> = []
                    var top = window.position ?? 0
                    for received in frames where received.frame["command"] == "message" && received.frame["chat"]?.stringValue == chat {
                        guard let json = received.frame["message"] else { continue }
                        let message = undone(SeenMessage(json: json), in: chat)
                        got.insert(message.content)
                        top = max(top, message.seq ?? 0)
                    }
                    return expected.isSubset(of: got) && top >= newest
                }
            }
        }
    }

    /// The sends to a chat whose storing no client has seen yet: no open socket got the message and
    /// no acknowledgement came for it (over a socket or REST). A history read now may rightly lack
    /// them: past the settle deadline, a slow server may still be storing them.
    func unconfirmedSends(chat uuid: String) -> Set<String> {
        var seen: Set<String> = []
        var acknowledged = Set(recording.acks.filter { $0.chat == uuid }.map(\.clientID))
        for (_, open) in sockets where recording.sockets[open.logIndex].chat == uuid {
            seen.formUnion(open.socket.received.compactMap { $0.frame["message"]?["content"]?.stringValue })
        }
        for (_, open) in userSockets {
            for received in open.socket.received where received.frame["chat"]?.stringValue == uuid {
                if let content = received.frame["message"]?["content"]?.stringValue { seen.insert(content) }
                if received.frame["command"] == "ack", let clientID = received.frame["client_id"]?.stringValue { acknowledged.insert(clientID) }
            }
        }
        let unseen = recording.sends.filter { send in
            send.chat == uuid && !seen.contains(send.content) && !(send.clientID.map(acknowledged.contains) ?? false)
        }
        return Set(unseen.map(\.content))
    }

    /// The newest `seq` of a chat any client of the run has seen (in an ack or a message).
    func knownLastSeq(of chat: String) -> Int64 {
        var newest = recording.acks.filter { $0.chat == chat }.map(\.seq).max() ?? 0
        for (index, socket) in socketObjects where recording.sockets[index].chat == chat {
            for received in socket.received { newest = max(newest, received.frame["message"]?["seq"]?.intValue ?? 0) }
        }
        for (_, socket) in userSocketObjects {
            for received in socket.received where received.frame["chat"]?.stringValue == chat {
                let frame = received.frame
                switch frame["command"]?.stringValue {
                case "message": newest = max(newest, frame["message"]?["seq"]?.intValue ?? 0)
                case "ack": newest = max(newest, frame["seq"]?.intValue ?? 0)
                default: continue
                }
            }
        }
        return newest
    }

    func close(_ open: OpenSocket) async {
        sequence += 1
        recording.sockets[open.logIndex].closedAt = sequence
        await open.socket.close()
    }

    func finalRecording() -> Recording {
        var final = recording
        for (index, socket) in socketObjects {
            final.sockets[index].received = socket.received
                .filter { $0.frame["command"] == "new_message" }
                .compactMap { $0.frame["message"].map(SeenMessage.init(json:)) }
        }
        for (index, socket) in userSocketObjects.sorted(by: { $0.key < $1.key }) {
            let frames = socket.received.map(\.frame)
            final.userSockets[index].frames = frames.compactMap(UserSocketFrame.init(json:))
            for frame in frames where frame["command"] == "ack" {
                guard let chat = frame["chat"]?.stringValue, let clientID = frame["client_id"]?.stringValue, let id = frame["id"]?.intValue,
                    let seq = frame["seq"]?.intValue
                else {
                    final.contractViolations.append(
                        Violation(kind: .contract, scenario: scenario.name, step: "end", client: final.userSockets[index].name, message: "", detail: "an ack without chat, client_id, id or seq: \(frame.serialized)")
                    )
                    continue
                }
                final.acks.append(AckLog(client: final.userSockets[index].client, chat: chat, clientID: clientID, id: id, seq: seq, via: "user socket \(final.userSockets[index].number)"))
            }
        }
        // A send is acknowledged on the socket it went on, unless that connection dropped first.
        for (clientID, sent) in keyedSends.sorted(by: { $0.key < $1.key }) where sent.sockets.contains(where: { !final.userSockets[$0].dropped }) {
            let author = username(sent.actor)
            guard !final.acks.contains(where: { $0.client == author && $0.chat == sent.chat && $0.clientID == clientID }) else { continue }
            // What the server said instead, if anything.
            let answers = sent.sockets.compactMap { userSocketObjects[$0] }.flatMap(\.received).map(\.frame)
                .filter { $0["command"] == "error" && $0["client_id"]?.stringValue == clientID }
            let said = answers.isEmpty ? "no answer came" : "answered " + answers.map(\.serialized).joined(separator: ", ")
            final.contractViolations.append(
                Violation(kind: .contract, scenario: scenario.name, step: "end", client: author, message: sent.content, detail: "the send with client_id '\(clientID)' was never acknowledged: \(said)")
            )
        }
        return final
    }

    /// Records a contract violation when `response` is not `status`, is a server error, or lacks `fields`.
    func expect(_ response: APIResponse, _ status: Int, client: String, fields: [String] = []) {
        if response.status != status {
            contract(client: client, "answered \(response.status), expected \(status): \(response.rawBody.prefix(200))")
        }
        if response.status >= 500 { contract(client: client, "server error \(response.status)") }
        guard response.status == status, !fields.isEmpty else { return }
        let item = response.body?["results"]?.arrayValue?.first ?? response.body?.arrayValue?.first ?? response.body
        let missing = fields.filter { item?[$0] == nil }
        if !missing.isEmpty { contract(client: client, "answer lacks field(s) \(missing.joined(separator: ", ")): \(response.rawBody.prefix(200))") }
    }

    func contract(client: String, _ detail: String) {
        recording.contractViolations.append(Violation(kind: .contract, scenario: scenario.name, step: currentStep, client: client, message: "", detail: detail))
    }

    // MARK: Names

    /// The actor named `name`, signed up; `field` is the step's field that named it.
    func person(_ name: String, _ field: String) throws -> Person {
        guard let person = people[name] else { throw SimulatorError("'\(field)': no actor named \(name)") }
        return person
    }

    /// The uuid of the chat a step named `name`.
    func chat(_ name: String) throws -> String {
        guard let uuid = chats[name] else { throw SimulatorError("no chat named \(name) (accept an invitation or create a group with chat: \(name) first)") }
        return uuid
    }

    /// The socket `actor` opened on `chatName` with `connect`.
    func socket(of actor: String, on chatName: String) throws -> OpenSocket {
        guard let open = sockets["\(actor)/\(chatName)"] else { throw SimulatorError("\(actor) is not connected to \(chatName)") }
        return open
    }

    /// The username of an actor, as the invariants name clients.
    func username(_ actor: String) -> String {
        people[actor]?.username ?? actor
    }
}
