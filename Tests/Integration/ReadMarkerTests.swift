import ChatBackend
import ChatSimulator
import Foundation
import Testing

/// Read markers and the unread counts of chat JSON.
@Suite("Read markers")
struct ReadMarkerTests {
    @Test("the marker only moves forward; beyond the last seq, negative, mistyped or missing is a 400; strangers get no access")
    func forwardOnly() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let eve = try await server.register("eve")
            let chat = try await server.befriend(alice, bob)
            let read = "/api/chat/\(chat)/read/"
            #expect(try await server.detail(of: chat, as: bob)["unread"] == 0)
            for n in 1...3 { _ = try await server.sent("m\(n)", to: chat, as: alice) }

            let state = try await server.post(read, token: bob.token, json: ["seq": 2])
            #expect(state.status == .ok)
            #expect(state.json == ["chat": .string(chat), "last_seq": 3, "read_seq": 2, "unread": 1])
            #expect(try await server.post(read, token: bob.token, json: ["seq": 1]).json["read_seq"] == 2, "never back")
            #expect(try await server.post(read, token: bob.token, json: ["seq": 0]).json["read_seq"] == 2)
            for body: JSONValue in [["seq": 4], ["seq": -1], ["seq": "2"], ["seq": .double(1.5)], [:]] {
                let refused = try await server.post(read, token: bob.token, json: body)
                #expect(refused.status == .badRequest && refused.json["seq"] != nil, "\(body.serialized) → \(refused.body)")
            }
            #expect(try await server.post(read, token: eve.token, json: ["seq": 1]).json == ["error": "No access!"])

            let detail = try await server.detail(of: chat, as: bob)
            #expect(detail["last_seq"] == 3 && detail["read_seq"] == 2 && detail["unread"] == 1)
            let mine = try await server.detail(of: chat, as: alice)
            #expect(mine["read_seq"] == 0 && mine["unread"] == 0, "one's own messages are never unread")
            #expect(try await server.post(read, token: bob.token, json: ["seq": 3]).json["unread"] == 0)
        }
    }

    @Test("after random sends, deletes and reads, every chat JSON's unread count is what the history says")
    func unreadMatchesHistory() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        try await TestServer.run { server in
            var random = SeededRandom(seed: seed)
            let people = [try await server.register("alice"), try await server.register("bob"), try await server.register("carol")]
            let chat = try await server.group("g", owner: people[0], members: Array(people.dropFirst()))
            var sent: [(id: Int64, author: Int)] = []
            var marker = [Int64](repeating: 0, count: people.count)
            for _ in 0..<60 {
                let who = Int(random.next() % UInt64(people.count))
                switch random.next() % 10 {
                case 0..<6:
                    let ack = try await server.sent("m\(sent.count)", to: chat, as: people[who])
                    sent.append((try #require(ack["id"]?.intValue), who))
                case 6:
                    guard let mine = sent.filter({ $0.author == who }).randomElement(using: &random) else { continue }
                    _ = try await server.delete("/api/chat/\(chat)/messages/\(mine.id)/", token: people[who].token)
                default:
                    let seq = Int64(random.next() % UInt64(sent.count + 1))
                    let answer = try await server.post("/api/chat/\(chat)/read/", token: people[who].token, json: ["seq": .int(seq)])
                    marker[who] = max(marker[who], seq)
                    #expect(answer.json["read_seq"] == .int(marker[who]), "seed \(seed): the marker only moves forward")
                }
            }

            let history = try await server.history(of: chat, as: people[0])
            #expect(history.first?["seq"]?.intValue ?? 0 == Int64(sent.count), "seed \(seed)")
            for (index, person) in people.enumerated() {
                let unread = history.filter {
                    ($0["seq"]?.intValue ?? 0) > marker[index] && $0["author_id"] != .int(person.id) && $0["deleted"] != true
                }.count
                let detail = try await server.detail(of: chat, as: person)
                let listed = try await server.get("/api/chat/mychats/groups/", token: person.token).json.firstResult
                for json in [detail, listed] {
                    #expect(json?["unread"] == .int(Int64(unread)), "seed \(seed): \(person.username)'s unread")
                    #expect(json?["read_seq"] == .int(marker[index]), "seed \(seed): \(person.username)'s marker")
                    #expect(json?["last_seq"] == .int(Int64(sent.count)), "seed \(seed)")
                }
            }
        }
    }
}
