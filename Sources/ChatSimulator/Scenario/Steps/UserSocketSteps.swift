import ChatBackend
import Foundation

// The user socket, `/ws/` (PROTOCOL.md): open it, send with a client_id and retry, drop and
// resume, edit, delete, typing, read markers.

/// How a step reaches the server.
public enum Via: String, Sendable, Decodable {
    /// The actor's user socket.
    case socket
    /// The REST route of the same command.
    case rest
}

/// `user_socket`: opens `actor`'s user socket (`/ws/`, the token in `?token=`), waits for
/// `hello` (which must list every chat the actor is in) and starts it with a first frame, `ping`.
public struct UserSocketStep: Sendable, Decodable {
    public let actor: String

    func run(in runner: isolated ScenarioRunner) async throws {
        try await runner.openUserSocket(actor)
    }
}

extension SendStep {
    /// `count` messages with client ids, on the user socket or by REST; each waits for its ack
    /// unless `wait: false`.
    func sendKeyed(in runner: isolated ScenarioRunner) async throws {
        guard let name = client_id else { return }
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        let count = self.count ?? 1
        for index in 1...max(count, 1) {
            let clientID = count == 1 ? name : "\(name)-\(index)"
            guard runner.keyedSends[clientID] == nil else { throw SimulatorError("client_id \(clientID) was sent before: a send again is a 'retry'") }
            let content = runner.nextContent(author: actor, text: text)
            runner.sequence += 1
            runner.messageCount += 1
            runner.recording.sends.append(
                SentMessage(sequence: runner.sequence, step: runner.currentStep, client: person.username, chat: uuid, content: content, clientID: clientID)
            )
            runner.keyedSends[clientID] = ScenarioRunner.KeyedSend(actor: actor, chat: uuid, content: content)
            switch via ?? .socket {
            case .socket:
                let open = try runner.userSocket(of: actor), socket = open.socket
                runner.keyedSends[clientID]?.sockets.append(open.logIndex)
                socket.send(chat: uuid, clientID: clientID, message: content)
                guard wait ?? true else { continue }
                let answer = await runner.awaitAnswers([clientID], on: open, until: .now + runner.environment.settleTimeout)[clientID]
                if answer?["command"] != "ack" { runner.contract(client: person.username, "no ack answered send \(clientID): \(answer?.serialized ?? "nothing came")") }
            case .rest:
                let response = try await person.client.request(
                    .POST, "/api/chat/\(uuid)/messages/", json: ["message": .string(content), "client_id": .string(clientID)]
                )
                runner.expect(response, 201, client: person.username, fields: ScenarioRunner.ackFields)
                runner.recordRESTAck(response, actor: actor, chat: uuid, clientID: clientID)
            }
        }
    }
}

/// `retry`: `actor` sends again with the `client_id` of an earlier send on `chat` (its text, or
/// `text`): the server must answer with the first send's ack and store nothing new. Over REST the
/// answer is 200; 201 only while the first send is not yet acknowledged (the two raced, and the
/// retry stored the message: the first send must then get the same ack).
public struct RetryStep: Sendable, Decodable {
    public let actor, chat: String
    /// The `client_id` of the send to retry (as the file spells the field).
    public let client_id: String
    /// Another text than the first send's: the server keeps the first.
    public let text: String?
    /// The user socket (the default), or REST (which answers a retry 200).
    public let via: Via?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        guard let first = runner.keyedSends[client_id], first.actor == actor, first.chat == uuid else {
            throw SimulatorError("no send by \(actor) on \(chat) with client_id \(client_id) to retry")
        }
        let content = text ?? first.content
        runner.sequence += 1
        runner.recording.retries.append(
            RetryLog(sequence: runner.sequence, step: runner.currentStep, client: person.username, chat: uuid, clientID: client_id, content: content)
        )
        switch via ?? .socket {
        case .socket:
            let open = try runner.userSocket(of: actor), socket = open.socket
            runner.keyedSends[client_id]?.sockets.append(open.logIndex)
            let before = socket.count
            socket.send(chat: uuid, clientID: client_id, message: content)
            // This retry's own answer: an ack (or, refused for now, sent again until acknowledged).
            _ = await socket.next(after: before, timeout: runner.environment.settleTimeout) { frame in
                (frame["command"] == "ack" || frame["command"] == "error") && frame["client_id"]?.stringValue == client_id
            }
            let answer = await runner.awaitAnswers([client_id], on: open, until: .now + runner.environment.settleTimeout)[client_id]
            if answer?["command"] != "ack" { runner.contract(client: person.username, "no ack answered the retry of \(client_id): \(answer?.serialized ?? "nothing came")") }
        case .rest:
            // A retry racing its first send (not yet acknowledged) may be the one that stores it.
            let racing = !runner.hasAck(of: client_id)
            let response = try await person.client.request(
                .POST, "/api/chat/\(uuid)/messages/", json: ["message": .string(content), "client_id": .string(client_id)]
            )
            runner.expect(response, racing && response.status == 201 ? 201 : 200, client: person.username, fields: ScenarioRunner.ackFields)
            runner.recordRESTAck(response, actor: actor, chat: uuid, clientID: client_id)
        }
    }
}

/// `drop`: `actor`'s user socket loses its connection at once, whatever is on its way (no close
/// handshake, no wait for deliveries). What it had seen of each chat is kept for `resume`.
public struct DropStep: Sendable, Decodable {
    public let actor: String

    func run(in runner: isolated ScenarioRunner) async throws {
        let open = try runner.userSocket(of: actor)
        await open.socket.drop()
        runner.droppedPositions[actor] = open.socket.lastSeqSeen
        runner.userSockets[actor] = nil
        runner.sequence += 1
        runner.recording.userSockets[open.logIndex].closedAt = runner.sequence
        runner.recording.userSockets[open.logIndex].dropped = true
    }
}

/// `resume`: `actor` opens a user socket again and sends `resume` with the last `seq` its
/// dropped socket saw of each chat; every chat named must be replayed, then answered `resumed`.
public struct ResumeStep: Sendable, Decodable {
    public let actor: String

    func run(in runner: isolated ScenarioRunner) async throws {
        guard let positions = runner.droppedPositions.removeValue(forKey: actor) else {
            throw SimulatorError("\(actor) has no dropped user socket to resume (drop it first)")
        }
        try await runner.openUserSocket(actor, resuming: positions)
    }
}

/// `edit`: `actor` edits the message sent with the `client_id` `message` on `chat` (to `text`,
/// made unique); every member's user socket must hear `edited`. `refused: true`: the server must
/// refuse it (an error frame naming the chat, or a 4xx).
public struct EditStep: Sendable, Decodable {
    public let actor, chat, message: String
    public let text: String?
    public let via: Via?
    public let refused: Bool?

    func run(in runner: isolated ScenarioRunner) async throws {
        try await runner.change(actor: actor, chatName: chat, message: message, to: .edit(text ?? "edited"), via: via ?? .socket, refused: refused ?? false)
    }
}

/// `delete`: `actor` deletes the message sent with the `client_id` `message` on `chat` (its
/// author, or a group's creator); every member's user socket must hear `deleted`.
/// `refused: true`: the server must refuse it.
public struct DeleteStep: Sendable, Decodable {
    public let actor, chat, message: String
    public let via: Via?
    public let refused: Bool?

    func run(in runner: isolated ScenarioRunner) async throws {
        try await runner.change(actor: actor, chatName: chat, message: message, to: .delete, via: via ?? .socket, refused: refused ?? false)
    }
}

/// `typing`: `actor` says they are typing in `chat`; every other member's user socket must hear
/// it, and the actor's own must not (a repeat within 2 s may be dropped by the server).
public struct TypingStep: Sendable, Decodable {
    public let actor, chat: String

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        let own = try runner.userSocket(of: actor)
        let key = "\(actor)/\(uuid)"
        let repeated = runner.lastTyping[key].map { ContinuousClock.now - $0 < .milliseconds(2500) } ?? false
        runner.lastTyping[key] = .now
        let others = runner.memberSockets(of: uuid).filter { $0.actor != actor }.map { ($0.actor, $0.open.socket, $0.open.socket.count) }
        let ownBefore = own.socket.count
        own.socket.send(["command": "typing", "chat": .string(uuid)])
        let isTyping: (JSONValue) -> Bool = { $0["command"] == "typing" && $0["chat"]?.stringValue == uuid && $0["user"]?.stringValue == person.uuid }
        for (other, socket, before) in others {
            let heard = await socket.next(after: before, timeout: runner.environment.settleTimeout, where: isTyping)
            if heard == nil, !repeated { runner.contract(client: runner.username(other), "never heard that \(actor) was typing in \(chat)") }
        }
        if own.socket.received.dropFirst(ownBefore).contains(where: { isTyping($0.frame) }) {
            runner.contract(client: person.username, "the user socket that sent typing got its own typing back")
        }
    }
}

/// `read`: `actor` moves their read marker in `chat` to `seq` (by default, the newest `seq` their
/// user socket has seen there); the other members' user sockets must hear a forward move.
/// `refused: true` (a `seq` beyond the chat's last): an error frame naming the chat, or a 400.
public struct ReadStep: Sendable, Decodable {
    public let actor, chat: String
    public let seq: Int?
    public let via: Via?
    public let refused: Bool?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        let refused = self.refused ?? false
        let target: Int64
        if let seq {
            target = Int64(seq)
        } else if let seen = runner.userSockets[actor]?.socket.lastSeqSeen[uuid] {
            target = seen
        } else {
            throw SimulatorError("read: say which 'seq' (\(actor) has no user socket on \(chat) to read up to)")
        }
        let key = "\(actor)/\(uuid)"
        let forward = !refused && target > runner.askedMarkers[key] ?? 0
        if forward { runner.askedMarkers[key] = target }
        let others = runner.memberSockets(of: uuid).filter { $0.actor != actor }.map { ($0.actor, $0.open.socket, $0.open.socket.count) }
        switch via ?? .socket {
        case .socket:
            let socket = try runner.userSocket(of: actor).socket
            let before = socket.count
            socket.send(["command": "read", "chat": .string(uuid), "seq": .int(target)])
            if refused {
                let error = await socket.next(after: before, timeout: runner.environment.settleTimeout) { $0["command"] == "error" && $0["chat"]?.stringValue == uuid }
                if error == nil { runner.contract(client: person.username, "no error frame refused read up to seq \(target)") }
                return
            }
        case .rest:
            let response = try await person.client.request(.POST, "/api/chat/\(uuid)/read/", json: ["seq": .int(target)])
            runner.expect(response, refused ? 400 : 200, client: person.username, fields: refused ? ["seq"] : ["chat", "last_seq", "read_seq", "unread"])
            guard !refused, response.status == 200, let body = response.body else { return }
            runner.sequence += 1
            runner.recordState(body, of: person, chat: uuid, source: .readAnswer)
        }
        guard forward else { return }
        for (other, socket, before) in others {
            let heard = await socket.next(after: before, timeout: runner.environment.settleTimeout) { frame in
                frame["command"] == "read" && frame["chat"]?.stringValue == uuid && frame["user"]?.stringValue == person.uuid
                    && (frame["seq"]?.intValue ?? 0) >= target
            }
            if heard == nil { runner.contract(client: runner.username(other), "never heard \(actor)'s read marker move to seq \(target) in \(chat)") }
        }
    }
}

extension ScenarioRunner {
    /// What a `change` does to a message.
    enum Change {
        case edit(String)
        case delete
    }

    /// Edits or deletes the message sent with `clientID`, as `actor`; unless refused, records the
    /// change once the server announced it, and checks every member's user socket heard it.
    func change(actor: String, chatName: String, message clientID: String, to change: Change, via: Via, refused: Bool) async throws {
        let uuid = try chat(chatName), person = try person(actor, "actor")
        guard let sent = keyedSends[clientID], sent.chat == uuid else { throw SimulatorError("no message was sent with client_id \(clientID) on \(chatName)") }
        guard let (id, seq) = await ack(of: clientID) else {
            contract(client: person.username, "no ack of \(clientID) came, so its id is unknown: it cannot be changed")
            return
        }
        let content: String? = switch change {
        case .edit(let text): "\(text) ·\(actor)✎\(recording.changes.count + 1)"
        case .delete: nil
        }
        let event = content == nil ? "deleted" : "edited"
        let watchers = memberSockets(of: uuid).map { ($0.actor, $0.open.socket, $0.open.socket.count) }
        switch via {
        case .socket:
            let socket = try userSocket(of: actor).socket
            let before = socket.count
            var frame: [(String, JSONValue)] = [("command", .string(content == nil ? "delete" : "edit")), ("chat", .string(uuid)), ("id", .int(id))]
            if let content { frame.append(("message", .string(content))) }
            socket.send(.object(frame))
            if refused {
                let error = await socket.next(after: before, timeout: environment.settleTimeout) { $0["command"] == "error" && $0["chat"]?.stringValue == uuid }
                if error == nil { contract(client: person.username, "no error frame refused the \(content == nil ? "delete" : "edit") of \(clientID)") }
                return
            }
        case .rest:
            let path = "/api/chat/\(uuid)/messages/\(id)/"
            let response: APIResponse
            if let content {
                response = try await person.client.request(.PATCH, path, json: ["message": .string(content)])
            } else {
                response = try await person.client.request(.DELETE, path)
            }
            if refused {
                if !(400..<500).contains(response.status) { contract(client: person.username, "\(content == nil ? "DELETE" : "PATCH") \(path) answered \(response.status), expected a refusal (4xx)") }
                return
            }
            expect(response, content == nil ? 204 : 200, client: person.username)
        }
        sequence += 1
        recording.changes.append(MessageChange(sequence: sequence, step: currentStep, chat: uuid, seq: seq, original: sent.content, content: content))
        for (watcher, socket, before) in watchers {
            let heard = await socket.next(after: before, timeout: environment.settleTimeout) { $0["command"]?.stringValue == event && $0["id"]?.intValue == id }
            guard let heard else {
                contract(client: username(watcher), "never heard '\(event)' of message \(id) (\(clientID)) in \(chatName)")
                continue
            }
            if heard["seq"]?.intValue != seq || heard["chat"]?.stringValue != uuid || (content != nil && heard["content"]?.stringValue != content) {
                contract(client: username(watcher), "'\(event)' of message \(id) says \(heard.serialized.prefix(200)); expected chat \(uuid), seq \(seq)" + (content.map { ", content '\($0)'" } ?? ""))
            }
        }
    }
}
