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
/// the previous one back. With a `client_id`, on the actor's user socket (or REST, `via: rest`):
/// see ``sendKeyed(in:)``.
public struct SendStep: Sendable, Decodable {
    public let actor, chat: String
    public let text: String?
    public let count: Int?
    /// The idempotency key (named as the file spells the field): the user socket's `send`, each
    /// message with this `client_id` (one message) or `<client_id>-1` … `<client_id>-<count>`.
    public let client_id: String?
    /// With `client_id`: wait for each message's ack before the next (the default), or send them
    /// all at once (a burst; the acks are checked at the end).
    public let wait: Bool?
    /// With `client_id`: the user socket (the default) or `POST /api/chat/<uuid>/messages/`.
    public let via: Via?

    func run(in runner: isolated ScenarioRunner) async throws {
        guard client_id == nil else { return try await sendKeyed(in: runner) }
        guard wait == nil, via == nil else { throw SimulatorError("'wait' and 'via' go with a 'client_id' (the user socket's send)") }
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
/// or a short-lived one) until `NO MESSAGES`; with `socket: user`, with the user socket's
/// `history` (`before_seq`, `limit` messages a page) until `more` is false.
public struct HistoryStep: Sendable, Decodable {
    /// Which socket reads the history.
    public enum Socket: String, Sendable, Decodable {
        case chat, user
    }

    public let actor, chat: String
    /// `chat` (the default: the chat socket's `fetch_messages`) or `user`.
    public let socket: Socket?
    /// With `socket: user`: messages a page (the server's default when left out).
    public let limit: Int?

    func run(in runner: isolated ScenarioRunner) async throws {
        let uuid = try runner.chat(chat), person = try runner.person(actor, "actor")
        await runner.settle(chat: uuid)
        let unconfirmed = runner.unconfirmedSends(chat: uuid)
        let newestFirst: [SeenMessage]
        switch socket ?? .chat {
        case .chat:
            guard limit == nil else { throw SimulatorError("'limit' goes with 'socket: user'") }
            let connected = runner.sockets["\(actor)/\(chat)"]?.socket
            let socket: ChatSocket
            if let connected { socket = connected } else { socket = try await person.account.openSocket(chat: uuid, auth: runner.environment.socketAuth) }
            newestFirst = try await runner.walkHistory(socket, client: person.username)
            if connected == nil { await socket.close() }
        case .user:
            newestFirst = try await userHistory(try runner.userSocket(of: actor).socket, chat: uuid, client: person.username, in: runner)
        }
        runner.sequence += 1
        runner.recording.histories.append(
            HistoryLog(
                sequence: runner.sequence, step: runner.currentStep, client: person.username, chat: uuid, newestFirst: newestFirst,
                unconfirmed: unconfirmed
            )
        )
    }

    /// Pages back with the user socket's `history`: each page newest first, at most `limit`
    /// messages, `more` until the oldest; the next page starts before the oldest `seq` of the last.
    private func userHistory(_ socket: UserSocket, chat: String, client: String, in runner: isolated ScenarioRunner) async throws -> [SeenMessage] {
        let pageSize = limit ?? Limits.historyPageSize
        var newestFirst: [SeenMessage] = []
        var before: Int64?
        for _ in 0..<10_000 {
            let page = try await socket.history(chat: chat, beforeSeq: before, limit: limit)
            guard page["command"] == "history", let messages = page["messages"]?.arrayValue, let more = page["more"]?.boolValue else {
                runner.contract(client: client, "history answered \(page.serialized.prefix(200))")
                break
            }
            if messages.count > pageSize { runner.contract(client: client, "a history page of \(messages.count) messages (limit \(pageSize))") }
            if more, messages.count < pageSize { runner.contract(client: client, "a short history page (\(messages.count) of \(pageSize)) that says more") }
            newestFirst += messages.map(SeenMessage.init(json:))
            guard more, let oldest = messages.compactMap({ $0["seq"]?.intValue }).min() else { break }
            before = oldest
        }
        return newestFirst
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
