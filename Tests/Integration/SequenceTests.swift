import ChatBackend
import ChatTestSupport
import Testing

/// Every message's `seq`: its position in its chat, 1, 2, 3, … with no gap and no repeat.
@Suite("Sequence numbers")
struct SequenceTests {
    @Test("senders on several sockets at once get seq 1…N: every socket sees them in seq order, the history and search agree")
    func concurrentSenders() async throws {
        try await Self.withNodes { nodes in
            let server = nodes[0]
            let people = [try await server.register("alice"), try await server.register("bob"), try await server.register("carol")]
            let chat = try await server.group("racers", owner: people[0], members: Array(people.dropFirst()))
            // Alice twice, and (on PostgreSQL) the sockets spread over both nodes.
            let owners = people + [people[0]]
            var sockets: [TestSocket] = []
            for (index, person) in owners.enumerated() {
                let node = nodes[index % nodes.count]
                sockets.append(try await TestSocket.connect(port: node.port, chat: chat, token: person.token))
            }
            // Each socket is registered once it has answered a command.
            for socket in sockets { _ = try await socket.fetch() }
            let perSocket = 10, total = owners.count * perSocket
            await withTaskGroup(of: Void.self) { group in
                for (index, socket) in sockets.enumerated() {
                    group.addTask {
                        for n in 0..<perSocket { socket.send(["command": "new_message", "message": .string("s\(index)-\(n)")]) }
                    }
                }
            }
            var seqOf: [String: Int64] = [:]
            for socket in sockets {
                let broadcasts = try await socket.frames(count: 1 + total).dropFirst().compactMap { $0["message"] }
                #expect(broadcasts.compactMap { $0["seq"]?.intValue } == Array(1...Int64(total)), "in seq order, no gap, no repeat")
                for message in broadcasts {
                    let content = try #require(message["content"]?.stringValue), seq = message["seq"]?.intValue
                    #expect(seqOf[content, default: seq ?? 0] == seq, "one seq per message on every socket")
                    seqOf[content] = seq
                }
            }
            #expect(seqOf.count == total)

            let history = try await Self.historyBySeq(sockets[1], newest: Int64(total))
            #expect(history.map(\.seq) == Array((1...Int64(total)).reversed()))
            #expect(history.allSatisfy { seqOf[$0.content] == $0.seq })

            let found = try await server.get("/api/chat/\(chat)/search/s2-/", token: people[2].token).json["results"]?.arrayValue ?? []
            #expect(found.count == Limits.defaultPageSize)
            #expect(found.allSatisfy { $0["seq"]?.intValue == seqOf[$0["content"]?.stringValue ?? ""] }, "REST answers carry seq")
            let foundSeqs = found.compactMap { $0["seq"]?.intValue }
            #expect(foundSeqs == foundSeqs.sorted(by: >), "newest first")
            for socket in sockets { await socket.close() }
        }
    }

    @Test("before_seq pages 40 messages, 20 sharing one time stamp, with no gap or repeat, as the time-stamp cursor does")
    func pagingBySeq() async throws {
        let start = Timestamp(microseconds: 1_596_743_166_000_000)
        let clock = ManualClock(start)
        try await TestServer.run(clock: { clock.now() }) { server in
            let (_, _, _, socket, other) = try await server.friendsOnSockets()
            await other.close()
            #expect(try await socket.fetch(beforeSeq: 1)["error"] == "NO MESSAGES")
            var sent: [String] = []
            for n in 0..<40 {
                let micro: Int64 = (10..<30).contains(n) ? 100 : Int64(n) * 10
                clock.set(Timestamp(microseconds: start.microseconds + 1_000_000 + micro))
                let before = socket.all.count
                sent.append("m\(n)")
                socket.send(["command": "new_message", "message": .string("m\(n)")])
                #expect(try await socket.next(after: before)["message"]?["seq"] == .int(Int64(n + 1)))
            }

            // From the newest (the time-stamp form's "0"), then by seq alone.
            var pages: [JSONValue] = [try await socket.fetch()]
            while pages.count < 10, pages.last?["error"] != "NO MESSAGES" {
                pages.append(try await socket.fetch(beforeSeq: try #require(pages.last?["last_message_seq"]?.intValue)))
            }
            let contents = pages.map { ($0["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue } }
            #expect(contents.map(\.count) == [15, 15, 10, 0])
            #expect(pages.map { $0["error"] } == [nil, nil, "LAST PACKAGE", "NO MESSAGES"])
            #expect(Array(contents.joined()) == Array(sent.reversed()))
            #expect(pages.map { $0["last_message_seq"] } == [26, 11, 1, 1], "the oldest's seq; the one given when empty")

            // The two cursors agree: the second page by the first page's time stamp and id.
            let byStamp = try await socket.fetch(try #require(pages[0]["last_message_time_stamp"]?.stringValue), id: pages[0]["last_message_id"]?.intValue)
            #expect(byStamp["messages"] == pages[1]["messages"])
            // A cursor past the newest is the newest page; with both cursors, before_seq wins.
            #expect(try await socket.fetch(beforeSeq: 1_000)["messages"] == pages[0]["messages"])
            let answered = socket.all.count
            socket.send(["command": "fetch_messages", "last_message_time_stamp": "0", "before_seq": 26])
            let both = try await socket.next(after: answered)
            #expect(both["messages"] == pages[1]["messages"])
            await socket.close()
        }
    }

    /// One server on SQLite (it has one writer); on PostgreSQL two nodes sharing the database and
    /// Redis, so senders on different nodes race for the chat's next seq.
    private static func withNodes(_ body: @escaping @Sendable ([TestServer]) async throws -> Void) async throws {
        let database = try await TestServer.freshDatabase()
        try await TestServer.run(database: database) { first in
            guard TestBackend.current == .postgres else { return try await body([first]) }
            try await TestServer.run(database: database) { second in try await body([first, second]) }
        }
    }

    /// The whole history, newest first, paged by `before_seq` from just past `newest`.
    private static func historyBySeq(_ socket: TestSocket, newest: Int64) async throws -> [(seq: Int64, content: String)] {
        var messages: [(seq: Int64, content: String)] = []
        var cursor = newest + 1
        for _ in 0..<1_000 {
            let page = try await socket.fetch(beforeSeq: cursor)
            for message in page["messages"]?.arrayValue ?? [] {
                messages.append((try #require(message["seq"]?.intValue), try #require(message["content"]?.stringValue)))
            }
            guard page["error"] == nil, let oldest = page["last_message_seq"]?.intValue else { break }
            cursor = oldest
        }
        return messages
    }
}
