import ChatBackend
import Foundation

// The runner's side of the user socket (`/ws/`): opening, dropping and resuming, who is in which
// chat as steps go (and so which user sockets are owed what), acks, and the state read at the end.
extension ScenarioRunner {
    /// The fields of an acknowledgement (the socket's `ack`, REST's answer to a send).
    static let ackFields = ["client_id", "chat", "id", "seq", "time_stamp"]

    /// The user socket `actor` opened with `user_socket` or `resume`.
    func userSocket(of actor: String) throws -> OpenUserSocket {
        guard let open = userSockets[actor] else { throw SimulatorError("\(actor) has no user socket open (open one with user_socket first)") }
        return open
    }

    /// Opens `actor`'s user socket and starts it: with `resume` from `positions` (each chat named
    /// replayed after its position, until its `resumed`), or else with a `ping`. Records `hello`'s
    /// states, and which chats the socket is owed from now on.
    func openUserSocket(_ actor: String, resuming positions: [String: Int64]? = nil) async throws {
        guard userSockets[actor] == nil else { throw SimulatorError("\(actor) has a user socket open already") }
        let person = try person(actor, "actor")
        let socket = try await UserSocket(url: person.client.userSocketURL)
        let listed = socket.helloChats.map(\.chat)
        if let positions {
            socket.resume(positions)
            let owed = Set(positions.keys).intersection(listed)
            let resumed = await socket.wait(timeout: environment.settleTimeout * 2) { frames in
                owed.isSubset(of: frames.compactMap { $0.frame["command"] == "resumed" ? $0.frame["chat"]?.stringValue : nil })
            }
            if !resumed { contract(client: person.username, "resumed \(owed.count) chat(s), but not every one was answered 'resumed'") }
        } else if await !socket.start(timeout: environment.settleTimeout) {
            contract(client: person.username, "no pong answered the user socket's first frame")
        }
        // hello names every chat the user is in, and no other.
        for (chat, names) in members.sorted(by: { $0.key < $1.key }) where names.contains(actor) != listed.contains(chat) {
            contract(client: person.username, names.contains(actor) ? "hello does not list chat \(chat), which the user is in" : "hello lists chat \(chat), which the user is not in")
        }
        sequence += 1
        for chat in socket.helloChats {
            recordState(
                ["last_seq": .int(chat.lastSeq), "read_seq": .int(chat.readSeq), "unread": .int(chat.unread)], of: person, chat: chat.chat, source: .hello
            )
        }
        let windows = socket.helloChats.map { chat in
            ChatWindow(chat: chat.chat, from: sequence, position: positions?[chat.chat] ?? chat.lastSeq, resumed: positions?[chat.chat] != nil)
        }
        recording.userSockets.append(
            UserSocketLog(client: person.username, user: person.uuid, number: recording.userSockets.count + 1, openedAt: sequence, chats: windows)
        )
        let index = recording.userSockets.count - 1
        userSocketObjects[index] = socket
        userSockets[actor] = OpenUserSocket(socket: socket, logIndex: index)
    }

    /// Closes a user socket at the end of its use.
    func close(_ open: OpenUserSocket) async {
        sequence += 1
        recording.userSockets[open.logIndex].closedAt = sequence
        await open.socket.close()
    }

    /// `actors` joined the chat `uuid` (a group made, a member added, an invitation accepted):
    /// each one's open user socket must hear `added` and is owed the chat's messages from then on.
    func joined(_ actors: [String], chat uuid: String) async {
        for actor in actors {
            members[uuid, default: []].insert(actor)
            guard let open = userSockets[actor], !recording.userSockets[open.logIndex].chats.contains(where: { $0.chat == uuid }) else { continue }
            let added = await open.socket.next(after: 0, timeout: environment.settleTimeout) { frame in
                frame["command"] == "chat" && frame["event"] == "added" && frame["chat"]?["uuid"]?.stringValue == uuid
            }
            if added == nil { contract(client: username(actor), "no 'chat added' event for chat \(uuid) on the user socket") }
            sequence += 1
            recording.userSockets[open.logIndex].chats.append(ChatWindow(chat: uuid, from: sequence, position: added?["chat"]?["last_seq"]?.intValue))
        }
    }

    /// `actor` is about to leave the chat (or be removed): what was sent before is delivered
    /// first; from now on their sockets are owed nothing of it. Returns their chat socket on
    /// it, which the server is to close.
    func leaving(_ actor: String, chatName: String) async throws -> OpenSocket? {
        let uuid = try chat(chatName), person = try person(actor, "user")
        await settle(chat: uuid)
        sequence += 1
        recording.departures.append(Departure(sequence: sequence, user: person.uuid, chat: uuid))
        if let open = userSockets[actor], let window = recording.userSockets[open.logIndex].chats.firstIndex(where: { $0.chat == uuid && $0.until == nil }) {
            recording.userSockets[open.logIndex].chats[window].until = sequence
        }
        guard let chatSocket = sockets.removeValue(forKey: "\(actor)/\(chatName)") else { return nil }
        recording.sockets[chatSocket.logIndex].closedAt = sequence
        return chatSocket
    }

    /// `actor` is out of the chat: their user socket must hear `removed`, and the server must
    /// close their chat socket on it.
    func left(_ actor: String, chat uuid: String, chatSocket: OpenSocket?) async {
        members[uuid]?.remove(actor)
        if let open = userSockets[actor] {
            let removed = await open.socket.next(after: 0, timeout: environment.settleTimeout) { frame in
                frame["command"] == "chat" && frame["event"] == "removed" && frame["chat"]?["uuid"]?.stringValue == uuid
            }
            if removed == nil { contract(client: username(actor), "no 'chat removed' event for chat \(uuid) on the user socket") }
        }
        if let chatSocket {
            let closed = await chatSocket.socket.wait(timeout: environment.settleTimeout) { _ in chatSocket.socket.isClosed }
            if !closed { contract(client: username(actor), "the chat socket on chat \(uuid) stayed open after its user left the chat") }
            await chatSocket.socket.close()
        }
    }

    /// The open user sockets of the chat's members, by actor.
    func memberSockets(of uuid: String) -> [(actor: String, open: OpenUserSocket)] {
        (members[uuid] ?? []).sorted().compactMap { actor in userSockets[actor].map { (actor, $0) } }
    }

    /// The acknowledged `id` and `seq` of the message sent with `clientID`: from a REST answer,
    /// or an `ack` on one of its author's user sockets (waiting for it on the open one).
    func ack(of clientID: String) async -> (id: Int64, seq: Int64)? {
        guard let sent = keyedSends[clientID] else { return nil }
        let author = username(sent.actor)
        if let ack = recording.acks.first(where: { $0.clientID == clientID && $0.chat == sent.chat && $0.client == author }) {
            return (ack.id, ack.seq)
        }
        let isAck: (JSONValue) -> Bool = { frame in
            frame["command"] == "ack" && frame["client_id"]?.stringValue == clientID && frame["chat"]?.stringValue == sent.chat
        }
        var found: JSONValue?
        for (index, socket) in userSocketObjects.sorted(by: { $0.key < $1.key }) where recording.userSockets[index].client == author {
            found = found ?? socket.received.first { isAck($0.frame) }?.frame
        }
        if found == nil, let open = userSockets[sent.actor] {
            found = await open.socket.next(after: 0, timeout: environment.settleTimeout, where: isAck)
        }
        guard let found, let id = found["id"]?.intValue, let seq = found["seq"]?.intValue else { return nil }
        return (id, seq)
    }

    /// Waits until each of `clientIDs`, sent on `open`, is answered, or `deadline` passes. An
    /// answer is an `ack`, or a refusal; a refusal the server says is for now ("the server is
    /// busy: send it again later", `rate_limited`) is sent again with the same `client_id`, as a
    /// client does, up to 10 times. Returns the last answer of each (nil: none came).
    @discardableResult
    func awaitAnswers(_ clientIDs: [String], on open: OpenUserSocket, until deadline: ContinuousClock.Instant) async -> [String: JSONValue] {
        let keys = Set(clientIDs)
        while true {
            let resent = resentForNow
            _ = await open.socket.wait(timeout: max(deadline - ContinuousClock.now, .zero)) { frames in
                var acked: Set<String> = []
                var refusals: [String: Int] = [:]
                for received in frames {
                    guard let key = received.frame["client_id"]?.stringValue, keys.contains(key) else { continue }
                    if received.frame["command"] == "ack" { acked.insert(key) }
                    if received.frame["command"] == "error" { refusals[key, default: 0] += 1 }
                }
                return keys.allSatisfy { acked.contains($0) || refusals[$0, default: 0] > resent[$0, default: 0] }
            }
            var answers: [String: JSONValue] = [:]
            var refusals: [String: Int] = [:]
            for received in open.socket.received {
                guard let key = received.frame["client_id"]?.stringValue, keys.contains(key) else { continue }
                let command = received.frame["command"]
                guard command == "ack" || command == "error" else { continue }
                if command == "error" { refusals[key, default: 0] += 1 }
                if answers[key]?["command"] != "ack" { answers[key] = received.frame }
            }
            let again = keys.sorted().filter { key in
                guard let answer = answers[key], answer["command"] == "error", refusals[key, default: 0] > resentForNow[key, default: 0],
                    resentForNow[key, default: 0] < 10, let reason = answer["error"]?.stringValue
                else { return false }
                return reason.contains("again") || reason == "rate_limited"
            }
            guard !again.isEmpty, ContinuousClock.now < deadline else { return answers }
            try? await Task.sleep(for: .milliseconds(50))
            for key in again {
                guard let sent = keyedSends[key] else { continue }
                resentForNow[key, default: 0] += 1
                sequence += 1
                recording.retries.append(
                    RetryLog(sequence: sequence, step: currentStep, client: username(sent.actor), chat: sent.chat, clientID: key, content: sent.content)
                )
                keyedSends[key]?.sockets.append(open.logIndex)
                open.socket.send(chat: sent.chat, clientID: key, message: sent.content)
            }
        }
    }

    /// Whether an ack of `clientID` has come yet (over REST, or on any user socket of its author).
    func hasAck(of clientID: String) -> Bool {
        guard let sent = keyedSends[clientID] else { return false }
        if recording.acks.contains(where: { $0.clientID == clientID && $0.chat == sent.chat && $0.client == username(sent.actor) }) { return true }
        return sent.sockets.compactMap { userSocketObjects[$0] }.contains { socket in
            socket.received.contains { $0.frame["command"] == "ack" && $0.frame["client_id"]?.stringValue == clientID }
        }
    }

    /// Records the ack a REST send answered.
    func recordRESTAck(_ response: APIResponse, actor: String, chat: String, clientID: String) {
        guard let id = response.body?["id"]?.intValue, let seq = response.body?["seq"]?.intValue else { return }
        recording.acks.append(AckLog(client: username(actor), chat: chat, clientID: clientID, id: id, seq: seq, via: "REST \(response.status)"))
    }

    /// Records a user's state in a chat (`last_seq`, `read_seq`, `unread`) as `json` shows it.
    func recordState(_ json: JSONValue, of person: Person, chat: String, source: ChatStateLog.Source) {
        guard let lastSeq = json["last_seq"]?.intValue, let readSeq = json["read_seq"]?.intValue, let unread = json["unread"]?.intValue else {
            contract(client: person.username, "\(source.rawValue) of chat \(chat) lacks last_seq, read_seq or unread: \(json.serialized.prefix(200))")
            return
        }
        recording.chatStates.append(
            ChatStateLog(
                sequence: sequence, step: currentStep, client: person.username, userID: person.account.id, user: person.uuid, chat: chat,
                lastSeq: lastSeq, readSeq: readSeq, unread: unread, source: source
            )
        )
    }

    /// At the end, once everything has settled: every actor's chat JSON of every chat of the run
    /// they are in (`last_seq`, `read_seq`, `unread`), then each such chat's whole history, read
    /// by one of its members. The unread counts are checked against it.
    func readFinalStates() async throws {
        let known = Set(chats.values).union(members.keys).union(recording.userSockets.flatMap { $0.chats.map(\.chat) })
        var readers: [String: Person] = [:]
        for actor in scenario.actors {
            guard let person = people[actor.name] else { continue }
            for chat in known.sorted() {
                let answer = try await person.client.request(.GET, "/api/chat/\(chat)/")
                guard answer.status == 200, let body = answer.body, body["uuid"] != nil else { continue }
                sequence += 1
                recordState(body, of: person, chat: chat, source: .end)
                if readers[chat] == nil { readers[chat] = person }
            }
        }
        for (chat, person) in readers.sorted(by: { $0.key < $1.key }) {
            let socket = try await person.account.openSocket(chat: chat)
            let newestFirst: [SeenMessage]
            do {
                newestFirst = try await walkHistory(socket, client: person.username)
            } catch {
                await socket.close()
                throw error
            }
            await socket.close()
            sequence += 1
            recording.histories.append(HistoryLog(sequence: sequence, step: currentStep, client: person.username, chat: chat, newestFirst: newestFirst))
        }
    }

    /// Pages through a chat's whole history with `fetch_messages` on `socket`, checking each page
    /// against the contract; returns the messages, newest first.
    func walkHistory(_ socket: ChatSocket, client: String) async throws -> [SeenMessage] {
        var newestFirst: [SeenMessage] = []
        for page in try await socket.historyPages() {
            let messages = page["messages"]?.arrayValue ?? []
            checkHistoryPage(page, holding: messages.count, client: client)
            newestFirst += messages.map(SeenMessage.init(json:))
        }
        return newestFirst
    }

    /// A page holds at most 15 messages, says when it is the last, and carries its cursor.
    private func checkHistoryPage(_ page: JSONValue, holding count: Int, client: String) {
        if count > 15 { contract(client: client, "a history page of \(count) messages (at most 15)") }
        guard page["error"] != "NO MESSAGES" else { return }
        if count < 15, page["error"] != "LAST PACKAGE" { contract(client: client, "a short history page without LAST PACKAGE") }
        if page["last_message_time_stamp"]?.stringValue == nil { contract(client: client, "a history page without last_message_time_stamp") }
    }
}
