import ChatBackend
import Foundation
import ChatSimulator
import ChatTestSupport
import Testing

/// The user socket, `/ws/` (PROTOCOL.md), as a client app lives on it.
@Suite("User socket")
struct UserSocketTests {
    /// Alice and Bob, friends, each on a user socket that has read its `hello`.
    private func friendsOnUserSockets(_ server: TestServer) async throws -> (alice: Person, bob: Person, chat: String, a: TestSocket, b: TestSocket) {
        let (alice, bob) = (try await server.register("alice"), try await server.register("bob"))
        let chat = try await server.befriend(alice, bob)
        let a = try await TestSocket.connectUser(port: server.port, token: alice.token)
        let b = try await TestSocket.connectUser(port: server.port, token: bob.token)
        _ = try await a.first { $0["command"]?.stringValue == "hello" }
        _ = try await b.first { $0["command"]?.stringValue == "hello" }
        return (alice, bob, chat, a, b)
    }

    private static func send(_ socket: TestSocket, chat: String, clientID: String, _ text: String) {
        socket.send(["command": "send", "chat": .string(chat), "client_id": .string(clientID), "message": .string(text)])
    }

    private static func seqs(_ frames: [JSONValue], chat: String) -> [Int64] {
        frames.filter { $0["chat"]?.stringValue == chat }.compactMap { $0["message"]?["seq"]?.intValue }
    }

    @Test("hello names every chat with last_seq, read_seq and unread, and the friends online; a token is required")
    func hello() async throws {
        try await TestServer.run { server in
            let (alice, bob) = (try await server.register("alice"), try await server.register("bob"))
            let chat = try await server.befriend(alice, bob)
            _ = try await server.sent("one", to: chat, as: bob)
            _ = try await server.sent("two", to: chat, as: bob)
            let b = try await TestSocket.connectUser(port: server.port, token: bob.token)
            _ = try await b.first { $0["command"]?.stringValue == "hello" }
            let a = try await TestSocket.connectUser(port: server.port, token: alice.token)
            let hello = try await a.first { $0["command"]?.stringValue == "hello" }
            #expect(hello["user"]?.stringValue == alice.uuid)
            #expect(hello["chats"] == [["chat": .string(chat), "last_seq": 2, "read_seq": 0, "unread": 2]])
            #expect(hello["online"] == [.string(bob.uuid)])
            #expect(a.all.first?["command"]?.stringValue == "hello", "hello is the first frame")
            // Bob hears that Alice came online.
            let presence = try await b.first { $0["command"]?.stringValue == "presence" }
            #expect(presence == ["command": "presence", "user": .string(alice.uuid), "online": true])

            let refused = try await server.get("/ws/")
            #expect(refused.status == .unauthorized)
        }
    }

    @Test("a send is acknowledged, reaches every socket of the chat (user and chat sockets) once, and a retry stores nothing new")
    func acknowledgedIdempotentSend() async throws {
        try await TestServer.run { server in
            let (alice, _, chat, a, b) = try await friendsOnUserSockets(server)
            let chatSocket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            a.send(["command": "ping"])  // the first frame starts the feed
            b.send(["command": "ping"])
            Self.send(a, chat: chat, clientID: "c-1", "hello Bob")
            let ack = try await a.first { $0["command"]?.stringValue == "ack" }
            #expect(ack["client_id"]?.stringValue == "c-1")
            #expect(ack["chat"]?.stringValue == chat)
            #expect(ack["seq"]?.intValue == 1)
            let message = try await b.first { $0["command"]?.stringValue == "message" }
            #expect(message["chat"]?.stringValue == chat)
            #expect(message["message"]?["author"]?.stringValue == alice.uuid)
            #expect(message["message"]?["content"]?.stringValue == "hello Bob")
            #expect(message["message"]?["client_id"]?.stringValue == "c-1")
            #expect(message["message"]?["id"] == ack["id"])
            let broadcast = try await chatSocket.first { $0["command"]?.stringValue == "new_message" }
            #expect(broadcast["message"]?["seq"]?.intValue == 1)
            #expect(broadcast["message"]?["author"] == nil, "chat sockets get what they always got, plus seq")

            // The retry after a lost ack: same answer, nothing stored, nothing broadcast.
            Self.send(a, chat: chat, clientID: "c-1", "hello Bob (sent again)")
            let acks = try await a.frames(command: "ack", count: 2)
            #expect(acks[1] == acks[0])
            Self.send(a, chat: chat, clientID: "c-2", "second")
            _ = try await b.frames(command: "message", count: 2)
            #expect(Self.seqs(b.all.filter { $0["command"]?.stringValue == "message" }, chat: chat) == [1, 2])
            #expect(try await server.history(of: chat, as: alice).count == 2)
        }
    }

    @Test("a burst of sends over two chats, retries among them: acks in send order, each chat's seqs in send order without gaps, and a command after the burst sees it all")
    func burstOfSends() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        let plan = Self.burstPlan(seed: seed)
        try await TestServer.run { server in
            let (alice, bob, pair, a, b) = try await friendsOnUserSockets(server)
            a.send(["command": "ping"])
            b.send(["command": "ping"])
            let group = try await alice.createGroup(name: "burst", members: [bob])
            _ = try await a.first { $0["command"]?.stringValue == "chat" && $0["chat"]?["uuid"]?.stringValue == group }

            var sent: [(clientID: String, chat: String)] = []
            var firstSends: [String: [String]] = [pair: [], group: []]
            for (index, step) in plan.enumerated() {
                let chat = step.toGroup ? group : pair
                if let retried = step.retryOf {
                    Self.send(a, chat: chat, clientID: sent[retried].clientID, "sent again \(index)")
                    sent.append(sent[retried])
                } else {
                    Self.send(a, chat: chat, clientID: "b-\(index)", "burst \(index)")
                    sent.append(("b-\(index)", chat))
                    firstSends[chat, default: []].append("b-\(index)")
                }
            }
            let count = plan.count
            a.send(["command": "history", "chat": .string(group), "limit": 100])

            let acks = try await a.frames(command: "ack", count: count)
            #expect(acks.map { $0["client_id"]?.stringValue ?? "" } == sent.map(\.clientID), "acks in send order; seed \(seed)")
            var ackOf: [String: JSONValue] = [:]
            for ack in acks {
                let clientID = ack["client_id"]?.stringValue ?? ""
                if let first = ackOf[clientID] { #expect(ack == first, "a retry gets its first ack; seed \(seed)") } else { ackOf[clientID] = ack }
            }
            for chat in [pair, group] {
                let seqs = firstSends[chat, default: []].compactMap { ackOf[$0]?["seq"]?.intValue }
                #expect(seqs == Array(stride(from: 1, through: Int64(seqs.count), by: 1)), "\(chat): seed \(seed)")
                let delivered = try await b.frames(command: "message", count: firstSends[pair]!.count + firstSends[group]!.count)
                #expect(Self.seqs(delivered, chat: chat) == seqs, "Bob gets each once, in seq order; seed \(seed)")
            }
            let history = try await a.first { $0["command"]?.stringValue == "history" }
            #expect(history["messages"]?.arrayValue?.count == firstSends[group]!.count, "the history after the burst holds all of it; seed \(seed)")
            #expect(try await server.history(of: pair, as: alice).count == firstSends[pair]!.count)
        }
    }

    /// A burst's sends, from a seed: 10 to 50 of them (fewer than the socket's 64 waiting
    /// commands, so none is refused as busy), each to the group or the private chat, about one in
    /// six a retry of an earlier send to the same chat (its index in the burst).
    private static func burstPlan(seed: UInt64) -> [(toGroup: Bool, retryOf: Int?)] {
        var random = SeededRandom(seed: seed)
        var plan: [(toGroup: Bool, retryOf: Int?)] = []
        for _ in 0..<Int.random(in: 10...50, using: &random) {
            let toGroup = Bool.random(using: &random)
            let earlier = plan.indices.filter { plan[$0].toGroup == toGroup && plan[$0].retryOf == nil }
            let retry = !earlier.isEmpty && Int.random(in: 0..<6, using: &random) == 0
            plan.append((toGroup, retry ? earlier.randomElement(using: &random) : nil))
        }
        return plan
    }

    @Test("resume replays exactly what was missed, in seq order, then resumed, then live, while the other side keeps sending")
    func resumeWithoutGapOrRepeat() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SeededRandom(seed: seed)
        let before = Int.random(in: 1...12, using: &random)
        let during = Int.random(in: 5...40, using: &random)
        try await TestServer.run { server in
            let (alice, bob, chat, a, b) = try await friendsOnUserSockets(server)
            a.send(["command": "ping"])
            b.send(["command": "ping"])
            for index in 0..<3 { Self.send(b, chat: chat, clientID: "early-\(index)", "early \(index)") }
            _ = try await a.frames(command: "message", count: 3)
            await a.close()
            for index in 0..<before { _ = try await server.sent("while away \(index)", to: chat, as: bob) }

            // Bob keeps sending while Alice comes back.
            let sender = Task {
                for index in 0..<during { Self.send(b, chat: chat, clientID: "during-\(index)", "during \(index)") }
            }
            let back = try await TestSocket.connectUser(port: server.port, token: alice.token)
            back.send(["command": "resume", "chats": .object([(chat, .int(3))])])
            await sender.value
            let total = 3 + before + during
            let resumed = try await back.first { $0["command"]?.stringValue == "resumed" }
            #expect(resumed["chat"]?.stringValue == chat)
            #expect(resumed["truncated"] == nil)
            _ = try await back.first(timeout: .seconds(20)) { frame in frame["message"]?["seq"]?.intValue == Int64(total) }
            let seen = Self.seqs(back.all.filter { $0["command"]?.stringValue == "message" }, chat: chat)
            #expect(seen == Array(4...Int64(total)), "seed \(seed)")
            // `resumed` comes after the replayed messages up to its seq, and before any later one.
            let frames = back.all
            let resumedAt = try #require(frames.firstIndex { $0["command"]?.stringValue == "resumed" })
            let resumedSeq = try #require(resumed["seq"]?.intValue)
            #expect(frames[..<resumedAt].compactMap { $0["message"]?["seq"]?.intValue }.allSatisfy { $0 <= resumedSeq })
            #expect(frames[resumedAt...].compactMap { $0["message"]?["seq"]?.intValue }.allSatisfy { $0 > resumedSeq })
            #expect(try await server.history(of: chat, as: alice).count == total)
        }
    }

    @Test("a resume further back than its bound sends the newest 500, says truncated, and history pages back by before_seq")
    func truncatedResume() async throws {
        try await TestServer.run { server in
            let (alice, bob) = (try await server.register("alice"), try await server.register("bob"))
            let chat = try await server.befriend(alice, bob)
            let b = try await TestSocket.connectUser(port: server.port, token: bob.token)
            _ = try await b.first { $0["command"]?.stringValue == "hello" }
            b.send(["command": "ping"])
            // In waves within the socket's bound on waiting commands.
            for wave in 0..<13 {
                for index in wave * 40..<(wave + 1) * 40 { Self.send(b, chat: chat, clientID: "m-\(index)", "message \(index)") }
                _ = try await b.frames(command: "ack", count: (wave + 1) * 40, timeout: .seconds(30))
            }
            let a = try await TestSocket.connectUser(port: server.port, token: alice.token)
            a.send(["command": "resume", "chats": .object([(chat, .int(0))])])
            let resumed = try await a.first(timeout: .seconds(20)) { $0["command"]?.stringValue == "resumed" }
            #expect(resumed["truncated"] == true)
            #expect(resumed["seq"]?.intValue == 520)
            #expect(Self.seqs(a.all.filter { $0["command"]?.stringValue == "message" }, chat: chat) == Array(21...520))
            a.send(["command": "history", "chat": .string(chat), "before_seq": 21, "limit": 100])
            let page = try await a.first { $0["command"]?.stringValue == "history" }
            #expect(page["messages"]?.arrayValue?.compactMap { $0["seq"]?.intValue } == Array((1...20).reversed()))
            #expect(page["more"] == false)
        }
    }

    @Test("edit and delete by the author reach every participant; typing reaches the others; read markers only move forward")
    func editsDeletesTypingAndReads() async throws {
        try await TestServer.run { server in
            let (alice, bob, chat, a, b) = try await friendsOnUserSockets(server)
            a.send(["command": "ping"])
            b.send(["command": "ping"])
            Self.send(a, chat: chat, clientID: "x", "helo")
            let ack = try await a.first { $0["command"]?.stringValue == "ack" }
            let id = try #require(ack["id"]?.intValue)

            b.send(["command": "edit", "chat": .string(chat), "id": .int(id), "message": "not mine"])
            let refused = try await b.first { $0["command"]?.stringValue == "error" }
            #expect(refused["chat"]?.stringValue == chat)
            a.send(["command": "edit", "chat": .string(chat), "id": .int(id), "message": "hello"])
            let edited = try await b.first { $0["command"]?.stringValue == "edited" }
            #expect(edited["content"] == "hello")
            #expect(edited["seq"]?.intValue == 1)

            b.send(["command": "typing", "chat": .string(chat)])
            let typing = try await a.first { $0["command"]?.stringValue == "typing" }
            #expect(typing["user"]?.stringValue == bob.uuid)

            b.send(["command": "read", "chat": .string(chat), "seq": 1])
            let read = try await a.first { $0["command"]?.stringValue == "read" }
            #expect(read == ["command": "read", "chat": .string(chat), "user": .string(bob.uuid), "seq": 1])
            b.send(["command": "read", "chat": .string(chat), "seq": 0])
            b.send(["command": "read", "chat": .string(chat), "seq": 9])
            let beyond = try await b.first { $0["error"]?.stringValue?.contains("beyond") == true }
            #expect(beyond["chat"]?.stringValue == chat)
            let reads = try await a.frames(command: "read", count: 2)
            #expect(reads[1]["seq"]?.intValue == 1, "a marker moved back stays where it was")

            a.send(["command": "delete", "chat": .string(chat), "id": .int(id)])
            let deleted = try await b.first { $0["command"]?.stringValue == "deleted" }
            #expect(deleted == ["command": "deleted", "chat": .string(chat), "id": .int(id), "seq": 1])
            #expect(!a.all.contains { $0["command"]?.stringValue == "typing" && $0["user"]?.stringValue == alice.uuid })
            let history = try await server.history(of: chat, as: alice)
            #expect(history.first?["deleted"] == true)
        }
    }

    @Test("a group joined while the socket is open is followed at once; a removal stops it at once")
    func chatEvents() async throws {
        try await TestServer.run { server in
            let (alice, bob, _, a, b) = try await friendsOnUserSockets(server)
            a.send(["command": "ping"])
            b.send(["command": "ping"])
            let group = try await alice.createGroup(name: "trip", members: [bob])
            let added = try await b.first { $0["command"]?.stringValue == "chat" && $0["event"]?.stringValue == "added" }
            #expect(added["chat"]?["uuid"]?.stringValue == group)
            Self.send(a, chat: group, clientID: "g-1", "welcome")
            let message = try await b.first { $0["command"]?.stringValue == "message" && $0["chat"]?.stringValue == group }
            #expect(message["message"]?["content"] == "welcome")
            Self.send(b, chat: group, clientID: "g-2", "thanks")
            _ = try await b.first { $0["command"]?.stringValue == "ack" && $0["client_id"]?.stringValue == "g-2" }

            let removed = try await server.delete("/api/chat/\(group)/participants/\(bob.uuid)/", token: alice.token)
            #expect(removed.status == .noContent)
            _ = try await b.first { $0["command"]?.stringValue == "chat" && $0["event"]?.stringValue == "removed" }
            Self.send(a, chat: group, clientID: "g-3", "after the removal")
            _ = try await a.first { $0["command"]?.stringValue == "ack" && $0["client_id"]?.stringValue == "g-3" }
            Self.send(b, chat: group, clientID: "g-4", "still here?")
            let refused = try await b.first { $0["command"]?.stringValue == "error" && $0["client_id"]?.stringValue == "g-4" }
            #expect(refused["chat"]?.stringValue == group)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!b.all.contains { $0["message"]?["content"]?.stringValue == "after the removal" })
        }
    }

    @Test("bad frames get an error frame naming their client_id, and the socket stays open")
    func badFrames() async throws {
        try await TestServer.run { server in
            let (_, _, chat, a, _) = try await friendsOnUserSockets(server)
            let stranger = UUID().uuidString.lowercased()
            let bad: [String] = [
                "not json", "[1]", #"{"command": 7}"#, #"{"command": "fly"}"#,
                #"{"command": "send", "chat": "\#(chat)", "client_id": "k", "message": "   "}"#,
                #"{"command": "send", "chat": "\#(chat)", "client_id": "\#(String(repeating: "x", count: 65))", "message": "hi"}"#,
                #"{"command": "send", "chat": "\#(stranger)", "client_id": "k2", "message": "hi"}"#,
                #"{"command": "history", "chat": "\#(chat)", "limit": 100000}"#,
                #"{"command": "resume", "chats": {"not-a-uuid": 1}}"#,
            ]
            for frame in bad { a.send(frame) }
            let errors = try await a.frames(command: "error", count: bad.count)
            #expect(errors.count == bad.count)
            #expect(errors.contains { $0["client_id"]?.stringValue == "k" })
            #expect(errors.contains { $0["client_id"]?.stringValue == "k2" && $0["chat"]?.stringValue == stranger })
            a.send(["command": "ping"])
            _ = try await a.first { $0["command"]?.stringValue == "pong" }
            #expect(!a.isClosed)
            #expect(!a.all.contains { $0["command"]?.stringValue == "ack" })
        }
    }

    @Test("at shutdown, every send is acknowledged or refused by an error frame naming its client_id and chat, then 1001")
    func shutdownNamesRefusedSends() async throws {
        let (socket, chat) = try await TestServer.run { server in
            let (alice, bob) = (try await server.register("alice"), try await server.register("bob"))
            let chat = try await server.befriend(alice, bob)
            let socket = try await TestSocket.connectUser(port: server.port, token: alice.token)
            _ = try await socket.first { $0["command"]?.stringValue == "hello" }
            // A steady sender that goes on while the server shuts down, so that some sends come
            // while the socket drains.
            Task {
                for index in 0..<5_000 {
                    for part in 0..<3 { Self.send(socket, chat: chat, clientID: "s\(index).\(part)", "m\(index).\(part)") }
                    try await Task.sleep(for: .milliseconds(1))
                    if socket.isClosed { break }
                }
            }
            _ = try await socket.frames(command: "ack", count: 20, timeout: .seconds(30))
            return (socket, chat)
        }
        #expect(try await socket.closedByServer()?.closeCode == .goingAway)
        let errors = socket.all.filter { $0["command"]?.stringValue == "error" }
        let unnamed = errors.filter { $0["client_id"]?.stringValue == nil || $0["chat"]?.stringValue != chat }
        #expect(unnamed.isEmpty, "\(unnamed.count) of \(errors.count) refusals do not say which send they refuse: \(unnamed.prefix(3).map(\.serialized))")
        let acked = Set(socket.all.filter { $0["command"]?.stringValue == "ack" }.compactMap { $0["client_id"]?.stringValue })
        let refused: Set<String> = Set(errors.compactMap { $0["client_id"]?.stringValue })
        #expect(refused.isDisjoint(with: acked), "a send both acknowledged and refused")
    }

    @Test("log-out closes the user socket of that token (1008)")
    func logOutClosesIt() async throws {
        try await TestServer.run { server in
            let (alice, _, _, a, b) = try await friendsOnUserSockets(server)
            let out = try await server.post("/api/rest-auth/logout/", token: alice.token)
            #expect(out.status == .ok)
            let close = try await a.closedByServer()
            #expect(close?.closeCode == .policyViolation)
            #expect(!b.isClosed)
        }
    }

    @Test(
        "across two nodes: a chat made on one is followed at once on the other, messages cross both ways in seq order, and resume on the other node misses nothing",
        .enabled(if: TestBackend.current == .postgres, "needs CHAT_TEST_BACKEND=postgres: nodes share PostgreSQL and Redis")
    )
    func acrossNodes() async throws {
        let location = try await TestServer.freshDatabase()
        try await TestServer.run(database: location) { first in
            try await TestServer.run(database: location) { second in
                let (alice, bob) = (try await first.register("alice"), try await first.register("bob"))
                let carol = try await first.register("carol")
                _ = try await first.befriend(alice, bob)
                _ = try await first.befriend(alice, carol)
                let a = try await TestSocket.connectUser(port: first.port, token: alice.token)
                let b = try await TestSocket.connectUser(port: second.port, token: bob.token)
                for socket in [a, b] {
                    _ = try await socket.first { $0["command"]?.stringValue == "hello" }
                    socket.send(["command": "ping"])
                }
                // A group made and joined through the first node reaches Bob's socket on the second.
                let group = try await alice.createGroup(name: "nodes", members: [bob, carol])
                _ = try await b.first { $0["command"]?.stringValue == "chat" && $0["chat"]?["uuid"]?.stringValue == group }
                for index in 0..<20 {
                    Self.send(index.isMultiple(of: 2) ? a : b, chat: group, clientID: "n-\(index)", "message \(index)")
                }
                _ = try await b.first(timeout: .seconds(20)) { $0["message"]?["seq"]?.intValue == 20 }
                _ = try await a.first(timeout: .seconds(20)) { $0["message"]?["seq"]?.intValue == 20 }
                for socket in [a, b] {
                    #expect(Self.seqs(socket.all.filter { $0["command"]?.stringValue == "message" }, chat: group) == Array(1...20))
                }
                // Carol comes in on the second node from seq 5 while Alice keeps sending on the first.
                let c = try await TestSocket.connectUser(port: second.port, token: carol.token)
                _ = try await c.first { $0["command"]?.stringValue == "hello" }
                c.send(["command": "resume", "chats": .object([(group, .int(5))])])
                for index in 20..<30 { Self.send(a, chat: group, clientID: "n-\(index)", "message \(index)") }
                _ = try await c.first(timeout: .seconds(20)) { $0["message"]?["seq"]?.intValue == 30 }
                #expect(Self.seqs(c.all.filter { $0["command"]?.stringValue == "message" }, chat: group) == Array(6...30))
            }
        }
    }
}
