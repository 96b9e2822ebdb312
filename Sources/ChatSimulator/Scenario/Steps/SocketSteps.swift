import ChatBackend

// Sockets: connect, disconnect, send, talk, read the history, send a raw frame.

/// `connect`: opens `actor`'s socket on `chat` and waits until the server answers a
/// `fetch_messages`; with another `expect` (401, 403, 404) the socket must be refused.
public struct ConnectStep: Sendable, Decodable {
    public let actor, chat: String
    /// 101 (the default): the socket opens.
    public let expect: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let person = try runner.person(actor, "actor"), uuid = try runner.chat(chat)
        let expected = expect ?? 101
        let auth = runner.environment.socketAuth
        guard expected == 101 else {
            // A refused socket: the upgrade must fail, and the route says why with the expected
            // status, to a plain GET presenting the same credentials.
            if let socket = try? await person.account.openSocket(chat: uuid, auth: auth) {
                await socket.close()
                runner.contract(client: person.username, "socket to \(chat) was accepted; expected \(expected)")
            }
            runner.expect(try await person.account.socketRouteClient(auth: auth).request(.GET, "/ws/chat/\(uuid)/"), expected, client: person.username)
            return
        }
        let socket = try await person.account.openSocket(chat: uuid, auth: auth)
        // Answered once the server has registered the socket for the chat's broadcasts.
        let answer = try await socket.fetch()
        if answer["messages"] == nil { runner.contract(client: person.username, "fetch_messages answer without messages: \(answer.serialized)") }
        runner.opened(socket, actor: actor, chatName: chat, chat: uuid)
    }
}

/// `disconnect`: waits for `actor`'s deliveries on `chat`, then closes its socket.
public struct DisconnectStep: Sendable, Decodable {
    public let actor, chat: String

    func run(in runner: isolated ScenarioRunner) async throws {
        await runner.settle(chat: try runner.chat(chat))
        if let open = runner.sockets.removeValue(forKey: "\(actor)/\(chat)") { await runner.close(open) }
    }
}

/// `send`: `actor` sends `count` messages (or one `text`) on `chat`, each after its sender got
/// the previous one back.
public struct SendStep: Sendable, Decodable {
    public let actor, chat: String
    public let text: String?
    public let count: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let open = try runner.socket(of: actor, on: chat), uuid = try runner.chat(chat)
        for _ in 0..<(count ?? 1) {
            let content = runner.nextContent(author: actor, text: text)
            runner.post(content, from: actor, socket: open.socket, chat: uuid)
            // The sender's own copy marks the message stored: the next one is sent after it.
            let echoed = await open.socket.wait(timeout: runner.environment.settleTimeout) { frames in
                frames.contains { $0.frame["message"]?["content"]?.stringValue == content }
            }
            if !echoed { runner.contract(client: runner.username(actor), "no broadcast of '\(content)' came back to its sender") }
        }
    }
}

/// `talk`: every one of `actors` sends `messages` on `chat` at once, without waiting.
public struct TalkStep: Sendable, Decodable {
    public let chat: String
    public let actors: [String]
    public let messages: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat)
        let open = try actors.map { actor in (actor, try runner.socket(of: actor, on: chat).socket) }
        // Everyone at once: the server sees concurrent senders.
        for _ in 0..<(messages ?? 1) {
            for (actor, socket) in open { runner.post(runner.nextContent(author: actor, text: nil), from: actor, socket: socket, chat: uuid) }
        }
        await runner.settle(chat: uuid)
    }
}

/// `history`: `actor` pages through `chat`'s whole history with `fetch_messages` (on its socket,
/// or a short-lived one) until `NO MESSAGES`.
public struct HistoryStep: Sendable, Decodable {
    public let actor, chat: String

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        await runner.settle(chat: uuid)
        let connected = runner.sockets["\(actor)/\(chat)"]?.socket
        let socket: ChatSocket
        if let connected {
            socket = connected
        } else {
            socket = try await person.account.openSocket(chat: uuid, auth: runner.environment.socketAuth)
        }
        var newestFirst: [SeenMessage] = []
        for page in try await socket.historyPages() {
            let messages = page["messages"]?.arrayValue ?? []
            check(page, holding: messages.count, client: person.username, in: runner)
            newestFirst += messages.map(SeenMessage.init(json:))
        }
        if connected == nil { await socket.close() }
        runner.sequence += 1
        runner.recording.histories.append(
            HistoryLog(sequence: runner.sequence, step: runner.currentStep, client: person.username, chat: uuid, newestFirst: newestFirst)
        )
    }

    /// A page holds at most 15 messages, says when it is the last, and carries its cursor.
    private func check(_ page: JSONValue, holding count: Int, client: String, in runner: isolated ScenarioRunner) {
        if count > 15 { runner.contract(client: client, "a history page of \(count) messages (at most 15)") }
        guard page["error"] != "NO MESSAGES" else { return }
        if count < 15, page["error"] != "LAST PACKAGE" { runner.contract(client: client, "a short history page without LAST PACKAGE") }
        if page["last_message_time_stamp"]?.stringValue == nil { runner.contract(client: client, "a history page without last_message_time_stamp") }
    }
}

/// `frame`: `actor` sends the text frame `raw` on `chat`; an error answer is expected (unless
/// `error: false`), and the socket must stay open.
public struct FrameStep: Sendable, Decodable {
    public let actor, chat, raw: String
    public let error: Bool?

    func run(in runner: isolated ScenarioRunner) async throws {
        let open = try runner.socket(of: actor, on: chat)
        let before = open.socket.count
        open.socket.sendRaw(raw)
        let answered = await open.socket.wait(timeout: runner.environment.settleTimeout) { frames in
            frames.dropFirst(before).contains { $0.frame["command"] == "error" }
        }
        if (error ?? true) && !answered { runner.contract(client: runner.username(actor), "no error frame answered a bad frame") }
        if open.socket.isClosed { runner.contract(client: runner.username(actor), "the server closed the socket after a bad frame") }
    }
}
