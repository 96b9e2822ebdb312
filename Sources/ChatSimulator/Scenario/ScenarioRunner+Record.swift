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

    /// Waits until every open socket (of `chat`, or of every chat) has every message it should have.
    func settle(chat uuid: String?) async {
        // One deadline for all sockets: a server that lost messages costs one timeout, not one per socket.
        let deadline = ContinuousClock.now + environment.settleTimeout
        for (_, open) in sockets {
            let log = recording.sockets[open.logIndex]
            guard uuid == nil || log.chat == uuid else { continue }
            let expected = Set(recording.sends.filter { $0.chat == log.chat && log.wasOpen(at: $0.sequence) }.map(\.content))
            _ = await open.socket.wait(timeout: max(deadline - ContinuousClock.now, .zero)) { frames in
                let got = Set(frames.compactMap { $0.frame["message"]?["content"]?.stringValue })
                return expected.isSubset(of: got)
            }
        }
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
