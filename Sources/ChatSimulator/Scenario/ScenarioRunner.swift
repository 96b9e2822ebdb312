import AsyncHTTPClient
import ChatBackend
import Foundation
import NIOHTTP1

/// Where a scenario runs, and what it may use there.
public struct ScenarioEnvironment: Sendable {
    /// `http://host:port` of the server under test; with several nodes, actors are spread over them.
    public var baseURLs: [String]
    /// The fake Google issuer the server trusts, for actors that sign up with Google.
    public var google: (issuer: FakeGoogleIssuer, clientID: String)?
    /// Makes names and messages reproducible: the same seed gives the same users, chats and messages.
    public var seed: UInt64
    /// How long to wait for broadcasts to arrive before calling them lost.
    public var settleTimeout: Duration = .seconds(5)

    public init(baseURLs: [String], google: (issuer: FakeGoogleIssuer, clientID: String)? = nil, seed: UInt64) {
        self.baseURLs = baseURLs
        self.google = google
        self.seed = seed
    }
}

/// What a scenario run found.
public struct ScenarioResult: Sendable {
    public var scenario: String
    public var violations: [Violation]
    public var steps: Int
    public var messages: Int
    public var duration: Duration
    /// What every client saw.
    public var recording: Recording

    /// The messages sent, in order: the same seed gives the same list.
    public var sentContents: [String] { recording.sends.map(\.content) }
}

/// Plays one scenario with real clients and records what every client saw.
public actor ScenarioRunner {
    private struct Person {
        var client: ChatClient
        var email: String
        var uuid: String
        var id: Int64
        var username: String
        var revokedToken: String?
    }

    private struct OpenSocket {
        let socket: ChatSocket
        let logIndex: Int
    }

    private let scenario: Scenario
    private let environment: ScenarioEnvironment
    private let runID: String
    private var people: [String: Person] = [:]
    private var chats: [String: String] = [:]
    private var sockets: [String: OpenSocket] = [:]
    private var socketObjects: [Int: ChatSocket] = [:]
    private var recording: Recording
    private var sequence = 0
    private var messageCount = 0
    private var random: SeededRandom
    private var currentStep = "setup"

    public init(scenario: Scenario, environment: ScenarioEnvironment) {
        self.scenario = scenario
        self.environment = environment
        self.recording = Recording(scenario: scenario.name)
        self.random = SeededRandom(seed: environment.seed ^ Self.stableHash(scenario.name))
        // Scenarios of one run share a server: each gets names of its own, still fixed by the seed.
        self.runID = String(environment.seed, radix: 36) + String(Self.stableHash(scenario.name) % 1296, radix: 36)
    }

    /// Runs every step, then checks the invariants; a step that cannot go on ends the run as a violation.
    public func run() async -> ScenarioResult {
        let started = ContinuousClock.now
        var stepsRun = 0
        do {
            for (index, actor) in scenario.actors.enumerated() {
                currentStep = "sign-up of \(actor.name)"
                try await signUp(actor, baseURL: environment.baseURLs[index % environment.baseURLs.count])
            }
            for (index, step) in scenario.steps.enumerated() {
                currentStep = "step \(index + 1) (\(step.kind))"
                try await perform(step)
                stepsRun += 1
            }
            currentStep = "end"
            try await settle(chat: nil)
        } catch {
            contract(client: "-", "the run stopped: \(error)")
        }
        for (_, open) in sockets { await close(open) }
        let recording = finalRecording()
        return ScenarioResult(
            scenario: scenario.name,
            violations: InvariantChecker().check(recording),
            steps: stepsRun,
            messages: messageCount,
            duration: ContinuousClock.now - started,
            recording: recording
        )
    }

    // MARK: Steps

    private func perform(_ step: Scenario.Step) async throws {
        let f = step.fields
        switch step.kind {
        case "invite":
            let from = try person(f.from, "from"), to = try person(f.to, "to")
            try expect(await from.client.invite(userUUID: to.uuid), f.expect ?? 201, client: from.username)
        case "accept", "decline":
            try await answer(step.kind == "accept", f)
        case "group":
            let owner = try person(f.actor, "actor")
            let response = try await owner.client.createGroup(name: try required(f.name, "name"))
            try expect(response, f.expect ?? 201, client: owner.username, fields: Self.chatDetailFields)
            if let uuid = response.body?["uuid"]?.stringValue { chats[try required(f.chat, "chat")] = uuid }
        case "add":
            let owner = try person(f.actor, "actor"), user = try person(f.user, "user")
            try expect(await owner.client.addToChat(chatUUID: try chat(f.chat), userUUID: user.uuid), f.expect ?? 200, client: owner.username)
        case "connect":
            try await connect(f)
        case "disconnect":
            let key = "\(try required(f.actor, "actor"))/\(try required(f.chat, "chat"))"
            try await settle(chat: try chat(f.chat))
            if let open = sockets.removeValue(forKey: key) { await close(open) }
        case "send":
            try await send(f)
        case "talk":
            try await talk(f)
        case "settle":
            try await settle(chat: nil)
        case "history":
            try await history(f)
        case "frame":
            try await frame(f)
        case "request":
            try await request(f)
        case "logout":
            try await logout(f)
        default:
            throw SimulatorError("unknown step kind '\(step.kind)'")
        }
    }

    private func signUp(_ actor: Scenario.Actor, baseURL: String) async throws {
        let email = "\(actor.name).\(runID)@sim.example.com"
        var client = ChatClient(baseURL: baseURL)
        let response: APIResponse
        switch actor.signup ?? "password" {
        case "password":
            response = try await client.register(email: email, password: "Sim-pass-\(runID)!")
            try expect(response, 201, client: actor.name, fields: ["key"])
        case "google":
            guard let google = environment.google else {
                throw SimulatorError("actor \(actor.name) signs up with Google: run without --server, so the simulator's fake issuer is trusted")
            }
            let account = FakeGoogleAccount(subject: "sim-\(runID)-\(actor.name)", email: email)
            response = try await client.googleSignIn(idToken: try google.issuer.idToken(for: account, audience: google.clientID))
            try expect(response, 200, client: actor.name, fields: ["key"])
        case let other:
            throw SimulatorError("actor \(actor.name): signup must be password or google, not \(other)")
        }
        guard let token = response.body?["key"]?.stringValue else { throw SimulatorError("\(actor.name) got no token") }
        client = client.with(token: token)
        let me = try await client.currentUser()
        try expect(me, 200, client: actor.name, fields: ["email", "id", "uuid", "username", "photo", "is_active"])
        guard let uuid = me.body?["uuid"]?.stringValue, let id = me.body?["id"]?.intValue, let username = me.body?["username"]?.stringValue else {
            throw SimulatorError("\(actor.name): current user has no uuid/id/username")
        }
        people[actor.name] = Person(client: client, email: email, uuid: uuid, id: id, username: username)
    }

    private func answer(_ accept: Bool, _ f: StepFields) async throws {
        let invitee = try person(f.actor, "actor"), inviter = try person(f.from, "from")
        let list = try await invitee.client.invitations()
        try expect(list, 200, client: invitee.username)
        guard case .array(let invitations)? = list.body,
            let id = invitations.first(where: { $0["first_user"]?.stringValue == inviter.username })?["id"]?.intValue
        else { throw SimulatorError("\(invitee.username) has no invitation from \(inviter.username)") }
        let response = try await invitee.client.answerInvitation(id: id, accept: accept)
        try expect(response, f.expect ?? (accept ? 201 : 200), client: invitee.username, fields: accept ? Self.chatDetailFields : [])
        if accept, let name = f.chat, let uuid = response.body?["uuid"]?.stringValue { chats[name] = uuid }
    }

    private func connect(_ f: StepFields) async throws {
        let actor = try required(f.actor, "actor"), chatName = try required(f.chat, "chat")
        let person = try person(actor, "actor"), uuid = try chat(chatName)
        let expected = f.expect ?? 101
        guard expected == 101 else {
            // A refused socket: the upgrade must fail, and the route says why with the expected status.
            if let socket = try? await ChatSocket(url: person.client.socketURL(chatUUID: uuid)) {
                await socket.close()
                contract(client: person.username, "socket to \(chatName) was accepted; expected \(expected)")
            }
            try expect(await person.client.request(.GET, "/ws/chat/\(uuid)/"), expected, client: person.username)
            return
        }
        let socket = try await ChatSocket(url: person.client.socketURL(chatUUID: uuid))
        // Answered once the server has registered the socket for the chat's broadcasts.
        let answer = try await socket.fetch()
        if answer["messages"] == nil { contract(client: person.username, "fetch_messages answer without messages: \(answer.serialized)") }
        sequence += 1
        recording.sockets.append(SocketLog(client: person.username, chat: uuid, openedAt: sequence))
        let index = recording.sockets.count - 1
        socketObjects[index] = socket
        sockets["\(actor)/\(chatName)"] = OpenSocket(socket: socket, logIndex: index)
    }

    private func send(_ f: StepFields) async throws {
        let actor = try required(f.actor, "actor"), chatName = try required(f.chat, "chat")
        guard let open = sockets["\(actor)/\(chatName)"] else { throw SimulatorError("\(actor) is not connected to \(chatName)") }
        for _ in 0..<(f.count ?? 1) {
            let content = nextContent(author: actor, text: f.text)
            post(content, from: actor, socket: open.socket, chat: try chat(chatName))
            // The sender's own copy marks the message stored: the next one is sent after it.
            let echoed = await open.socket.wait(timeout: environment.settleTimeout) { frames in
                frames.contains { $0.frame["message"]?["content"]?.stringValue == content }
            }
            if !echoed { contract(client: people[actor]?.username ?? actor, "no broadcast of '\(content)' came back to its sender") }
        }
    }

    private func talk(_ f: StepFields) async throws {
        let chatName = try required(f.chat, "chat"), uuid = try chat(chatName)
        let actors = try required(f.actors, "actors")
        let open = try actors.map { actor in
            guard let open = sockets["\(actor)/\(chatName)"] else { throw SimulatorError("\(actor) is not connected to \(chatName)") }
            return (actor, open.socket)
        }
        // Everyone at once: the server sees concurrent senders.
        for _ in 0..<(f.messages ?? 1) {
            for (actor, socket) in open { post(nextContent(author: actor, text: nil), from: actor, socket: socket, chat: uuid) }
        }
        try await settle(chat: uuid)
    }

    private func history(_ f: StepFields) async throws {
        let actor = try required(f.actor, "actor"), chatName = try required(f.chat, "chat"), uuid = try chat(chatName)
        try await settle(chat: uuid)
        let person = try person(actor, "actor")
        let connected = sockets["\(actor)/\(chatName)"]?.socket
        let socket: ChatSocket
        if let connected {
            socket = connected
        } else {
            socket = try await ChatSocket(url: person.client.socketURL(chatUUID: uuid))
        }
        var newestFirst: [SeenMessage] = []
        for page in try await socket.historyPages() {
            let messages = page["messages"]?.arrayValue ?? []
            if messages.count > 15 { contract(client: person.username, "a history page of \(messages.count) messages (at most 15)") }
            newestFirst += messages.map(Self.seen)
            if page["error"] == "NO MESSAGES" { break }
            if messages.count < 15, page["error"] != "LAST PACKAGE" {
                contract(client: person.username, "a short history page without LAST PACKAGE")
            }
            if page["last_message_time_stamp"]?.stringValue == nil {
                contract(client: person.username, "a history page without last_message_time_stamp")
            }
        }
        if connected == nil { await socket.close() }
        sequence += 1
        recording.histories.append(HistoryLog(sequence: sequence, step: currentStep, client: person.username, chat: uuid, newestFirst: newestFirst))
    }

    private func frame(_ f: StepFields) async throws {
        let actor = try required(f.actor, "actor"), chatName = try required(f.chat, "chat")
        guard let open = sockets["\(actor)/\(chatName)"] else { throw SimulatorError("\(actor) is not connected to \(chatName)") }
        let before = open.socket.count
        open.socket.sendRaw(try required(f.raw, "raw"))
        let answered = await open.socket.wait(timeout: environment.settleTimeout) { frames in
            frames.dropFirst(before).contains { $0.frame["command"] == "error" }
        }
        if (f.error ?? true) && !answered {
            contract(client: people[actor]?.username ?? actor, "no error frame answered a bad frame")
        }
        if open.socket.isClosed { contract(client: people[actor]?.username ?? actor, "the server closed the socket after a bad frame") }
    }

    private func request(_ f: StepFields) async throws {
        let client = try authenticatedClient(f)
        let path = try fill(try required(f.path, "path"))
        let method = HTTPMethod(rawValue: (f.method ?? "GET").uppercased())
        let body = try f.body.map { try $0.fillingStrings(fill) }
        let response = try await client.request(method, path, json: body, rawBody: f.raw)
        try expect(response, try required(f.expect, "expect"), client: f.actor ?? f.auth ?? "anonymous", fields: f.fields ?? [])
    }

    private func logout(_ f: StepFields) async throws {
        let actor = try required(f.actor, "actor")
        var person = try person(actor, "actor")
        try expect(await person.client.logout(), 200, client: person.username)
        person.revokedToken = person.client.token
        let login = try await person.client.with(token: nil).login(email: person.email, password: "Sim-pass-\(runID)!")
        try expect(login, 200, client: person.username, fields: ["key"])
        person.client = person.client.with(token: login.body?["key"]?.stringValue)
        people[actor] = person
    }

    // MARK: Delivery

    private func post(_ content: String, from actor: String, socket: ChatSocket, chat uuid: String) {
        sequence += 1
        messageCount += 1
        recording.sends.append(SentMessage(sequence: sequence, step: currentStep, client: people[actor]?.username ?? actor, chat: uuid, content: content))
        socket.send(["command": "new_message", "message": .string(content)])
    }

    /// Waits until every open socket (of `chat`, or of every chat) has every message it should have.
    private func settle(chat uuid: String?) async throws {
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

    private func close(_ open: OpenSocket) async {
        sequence += 1
        recording.sockets[open.logIndex].closedAt = sequence
        await open.socket.close()
    }

    private func finalRecording() -> Recording {
        var final = recording
        for (index, socket) in socketObjects {
            final.sockets[index].received = socket.received
                .filter { $0.frame["command"] == "new_message" }
                .compactMap { $0.frame["message"].map(Self.seen) }
        }
        return final
    }

    // MARK: Parts

    private static let chatDetailFields = ["id", "uuid", "name", "is_group_chat", "participants", "last_activity_date", "lastmessage"]

    private static func seen(_ message: JSONValue) -> SeenMessage {
        SeenMessage(content: message["content"]?.stringValue ?? message.serialized, authorID: message["author_id"]?.intValue, timeStamp: message["time_stamp"]?.stringValue)
    }

    /// A unique, reproducible message: the author, a counter, and seeded words (or the scenario's text).
    private func nextContent(author: String, text: String?) -> String {
        let words = ["hello", "lunch", "tomorrow", "deploy", "coffee", "ok", "ship it", "see you", "why", "great"]
        let body = text ?? (0..<3).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
        return "\(body) ·\(author)#\(messageCount + 1)"
    }

    private func authenticatedClient(_ f: StepFields) throws -> ChatClient {
        let base = ChatClient(baseURL: environment.baseURLs[0])
        switch f.auth {
        case nil:
            return f.actor == nil ? base : try person(f.actor, "actor").client
        case "none"?:
            return base
        case "bad"?:
            return base.with(token: String(repeating: "0", count: 40))
        case let auth? where auth.hasPrefix("revoked:"):
            guard let token = try person(String(auth.dropFirst("revoked:".count)), "auth").revokedToken else {
                throw SimulatorError("auth \(auth): that actor has not logged out")
            }
            return base.with(token: token)
        case let auth?:
            return try person(auth, "auth").client
        }
    }

    /// Fills `{chat:NAME}`, `{user:NAME}` and `{id:NAME}` in a path or body string.
    private func fill(_ text: String) throws -> String {
        var result = text
        while let open = result.range(of: "{"), let close = result.range(of: "}", range: open.upperBound..<result.endIndex) {
            let parts = result[open.upperBound..<close.lowerBound].split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw SimulatorError("bad template \(result[open.lowerBound..<close.upperBound])") }
            let value: String = switch parts[0] {
            case "chat": try chat(parts[1])
            case "user": try person(parts[1], "template").uuid
            case "id": String(try person(parts[1], "template").id)
            default: throw SimulatorError("unknown template kind \(parts[0])")
            }
            result.replaceSubrange(open.lowerBound..<close.upperBound, with: value)
        }
        return result
    }

    private func expect(_ response: APIResponse, _ status: Int, client: String, fields: [String] = []) throws {
        if response.status != status {
            contract(client: client, "answered \(response.status), expected \(status): \(response.rawBody.prefix(200))")
        }
        if response.status >= 500 { contract(client: client, "server error \(response.status)") }
        guard response.status == status, !fields.isEmpty else { return }
        let item = response.body?["results"]?.arrayValue?.first ?? response.body?.arrayValue?.first ?? response.body
        let missing = fields.filter { item?[$0] == nil }
        if !missing.isEmpty { contract(client: client, "answer lacks field(s) \(missing.joined(separator: ", ")): \(response.rawBody.prefix(200))") }
    }

    private func contract(client: String, _ detail: String) {
        recording.contractViolations.append(Violation(kind: .contract, scenario: scenario.name, step: currentStep, client: client, message: "", detail: detail))
    }

    private func person(_ name: String?, _ field: String) throws -> Person {
        let name = try required(name, field)
        guard let person = people[name] else { throw SimulatorError("'\(field)': no actor named \(name)") }
        return person
    }

    private func chat(_ name: String?) throws -> String {
        let name = try required(name, "chat")
        guard let uuid = chats[name] else { throw SimulatorError("no chat named \(name) (accept an invitation or create a group with chat: \(name) first)") }
        return uuid
    }

    private func required<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw SimulatorError("'\(field)' is missing") }
        return value
    }

    private static func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }
}

extension JSONValue {
    /// The elements of an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
