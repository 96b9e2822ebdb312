import ChatBackend
import Foundation
import Testing

@Suite("Chat socket")
struct SocketTests {
    @Test("every message reaches each of 3 participants exactly once, in one order; a stranger is refused")
    func fanOut() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let dave = try await server.register("dave")
            let chat = try await server.group("trio", owner: alice, members: [bob, carol])
            await #expect(throws: (any Error).self) {
                _ = try await TestSocket.connect(port: server.port, chat: chat, token: dave.token)
            }

            let people = [alice, bob, carol]
            var sockets: [TestSocket] = []
            for person in people {
                sockets.append(try await TestSocket.connect(port: server.port, chat: chat, token: person.token))
            }
            // Each socket is registered once it has answered a command.
            for socket in sockets { _ = try await socket.fetch() }
            let before = sockets.map { $0.all.count }
            await withTaskGroup(of: Void.self) { group in
                for (index, socket) in sockets.enumerated() {
                    group.addTask {
                        for n in 0..<5 { socket.send(["command": "new_message", "message": .string("\(people[index].username)-\(n)")]) }
                    }
                }
            }
            var orders: [[String]] = []
            for (index, socket) in sockets.enumerated() {
                let frames = Array(try await socket.frames(count: before[index] + 15).dropFirst(before[index]))
                #expect(frames.allSatisfy { $0["command"] == "new_message" })
                orders.append(frames.compactMap { $0["message"]?["content"]?.stringValue })
            }
            let expected = Set(people.flatMap { person in (0..<5).map { "\(person.username)-\($0)" } })
            for order in orders {
                #expect(order.count == 15 && Set(order) == expected, "each message exactly once: \(order)")
                #expect(order == orders[0], "one order for everyone")
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(sockets.map { $0.all.count } == before.map { $0 + 15 }, "nothing more arrives")
            // The history is the live order.
            let history = try await sockets[0].fetch()
            let paged = (history["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }
            #expect(paged == Array(orders[0].reversed().prefix(15)))
            for socket in sockets { await socket.close() }
        }
    }

    @Test("paging 40 messages, 20 sharing one time stamp: no gap, no repeat, then NO MESSAGES")
    func paging() async throws {
        let start = Timestamp(microseconds: 1_596_743_166_000_000)
        let clock = ManualClock(start)
        try await TestServer.run(clock: { clock.now() }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            #expect(try await socket.fetch()["error"] == "NO MESSAGES")
            var sent: [String] = []
            for n in 0..<40 {
                let micro: Int64 = switch n {
                case ..<10: Int64(n)
                case 10..<30: 100
                default: 200 + Int64(n)
                }
                clock.set(Timestamp(microseconds: start.microseconds + 1_000_000 + micro))
                let before = socket.all.count
                sent.append("m\(n)")
                socket.send(["command": "new_message", "message": .string("m\(n)")])
                _ = try await socket.next(after: before)
            }
            var pages: [[String]] = []
            var markers: [JSONValue?] = []
            var cursor: (String, Int64?) = ("0", nil)
            while pages.count < 10 {
                let page = try await socket.fetch(cursor.0, id: cursor.1)
                pages.append((page["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue })
                markers.append(page["error"])
                if page["error"] == "NO MESSAGES" { break }
                cursor = (try #require(page["last_message_time_stamp"]?.stringValue), page["last_message_id"]?.intValue)
            }
            #expect(pages.map(\.count) == [15, 15, 10, 0])
            #expect(markers == [nil, nil, "LAST PACKAGE", "NO MESSAGES"])
            #expect(Array(pages.joined()) == Array(sent.reversed()))
            await socket.close()
        }
    }

    @Test("the first fetch sees messages written after start-up, in the original's time-stamp form")
    func firstFetch() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            try await Task.sleep(for: .milliseconds(20))
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            socket.send(["command": "new_message", "message": "hi"])
            let broadcast = try await socket.next(after: 0)
            #expect(broadcast["message"]?["author_id"] == .int(alice.id))
            let stamp = try #require(broadcast["message"]?["time_stamp"]?.stringValue)
            #expect(stamp.hasSuffix("+00:00") && stamp.contains(" ") && Timestamp(parsing: stamp) != nil)
            let page = try await socket.fetch()
            #expect(page["messages"]?.arrayValue?.first?["content"] == "hi")
            #expect(page["error"] == "LAST PACKAGE")
            // The original's plain time-stamp cursor still works.
            #expect(try await socket.fetch(stamp)["error"] == "NO MESSAGES")
            await socket.close()
        }
    }

    @Test("bad frames get an error frame, the socket stays open, and nobody else hears of them")
    func badFrames() async throws {
        try await TestServer.run { server in
            let (_, _, _, sender, observer) = try await server.friendsOnSockets()
            _ = try await observer.fetch()
            let bad = [
                "this is not json", "[1,2,3]", #"{"message":"x"}"#, #"{"command":"delete_everything"}"#,
                #"{"command":"new_message"}"#, #"{"command":"new_message","message":123}"#,
                #"{"command":"new_message","message":{"a":1}}"#, #"{"command":"new_message","message":""}"#,
                #"{"command":"fetch_messages"}"#, #"{"command":"fetch_messages","last_message_time_stamp":""}"#,
                #"{"command":"fetch_messages","last_message_time_stamp":"yesterday"}"#,
                #"{"command":"fetch_messages","last_message_time_stamp":0}"#,
                #"{"command":"fetch_messages","last_message_time_stamp":null}"#,
                "{\"command\":\"new_message\",\"message\":\"" + String(repeating: "x", count: 5000) + "\"}",
            ]
            for frame in bad { sender.send(frame) }
            sender.sendBinary([0, 1, 2])
            let answers = try await sender.frames(count: bad.count + 1)
            #expect(answers.allSatisfy { $0["command"] == "error" && $0["error"]?.stringValue?.isEmpty == false })
            sender.send(["command": "new_message", "message": "still here"])
            #expect(try await sender.next(after: bad.count + 1)["message"]?["content"] == "still here")
            #expect(try await observer.next(after: 1)["message"]?["content"] == "still here")
            #expect(observer.all.count == 2)
            let history = try await sender.fetch()
            #expect(history["messages"]?.arrayValue?.count == 1)
            await sender.close()
            await observer.close()
        }
    }

    @Test("an oversized frame closes only its own socket, with 1009")
    func oversizedFrame() async throws {
        try await TestServer.run { server in
            let (_, _, _, abuser, bystander) = try await server.friendsOnSockets()
            abuser.send(String(repeating: "x", count: Limits.socketFrameBytes + 1))
            let close = try await abuser.closedByServer()
            #expect(close?.closeCode == .messageTooLarge)
            bystander.send(["command": "new_message", "message": "unbothered"])
            #expect(try await bystander.next(after: 0)["message"]?["content"] == "unbothered")
            await bystander.close()
        }
    }

    @Test("a user's two sockets both get each broadcast; other chats hear nothing")
    func twoSockets() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let carol = try await server.register("carol")
            let withBob = try await server.befriend(alice, bob)
            let withCarol = try await server.befriend(alice, carol)
            let first = try await TestSocket.connect(port: server.port, chat: withBob, token: alice.token)
            let second = try await TestSocket.connect(port: server.port, chat: withBob, token: alice.token)
            let elsewhere = try await TestSocket.connect(port: server.port, chat: withCarol, token: carol.token)
            _ = try await second.fetch()
            _ = try await elsewhere.fetch()
            first.send(["command": "new_message", "message": "to both"])
            #expect(try await first.next(after: 0)["message"]?["content"] == "to both")
            #expect(try await second.next(after: 1)["message"]?["content"] == "to both")
            try await Task.sleep(for: .milliseconds(100))
            #expect(elsewhere.all.count == 1)
            for socket in [first, second, elsewhere] { await socket.close() }
        }
    }

    @Test("a socket whose token is revoked is closed with 1008 at its next frame; others carry on")
    func revokedToken() async throws {
        try await TestServer.run(configure: { $0.socketReauthorizationInterval = .zero }) { server in
            let (alice, _, _, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            _ = try await bobSocket.fetch()
            aliceSocket.send(["command": "new_message", "message": "before logging out"])
            #expect(try await bobSocket.next(after: 1)["message"]?["content"] == "before logging out")
            #expect(try await server.post("/api/rest-auth/logout/", token: alice.token).status == .ok)
            aliceSocket.send(["command": "new_message", "message": "after logging out"])
            #expect(try await aliceSocket.closedByServer()?.closeCode == .policyViolation)
            bobSocket.send(["command": "new_message", "message": "bob carries on"])
            #expect(try await bobSocket.next(after: 2)["message"]?["content"] == "bob carries on")
            let contents = try await bobSocket.fetch()["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue }
            #expect(contents == ["bob carries on", "before logging out"], "nothing from the revoked token was stored")
            await bobSocket.close()
        }
    }

    @Test("shutting the server down closes open sockets with 1001")
    func gracefulShutdown() async throws {
        let socket = try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            _ = try await socket.fetch()
            return socket
        }
        let close = try await socket.closedByServer()
        #expect(close?.closeCode == .goingAway, "\(String(describing: close))")
    }
}

extension JSONValue {
    /// The elements of an array.
    var arrayValue: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
