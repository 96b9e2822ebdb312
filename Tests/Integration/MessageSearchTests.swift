import ChatBackend
import Foundation
import Testing

/// Message search on the database's own full-text index (SQLite FTS5, PostgreSQL `tsvector`).
@Suite("Message search")
struct MessageSearchTests {
    @Test("ranked, best match first; words in order, the last a prefix; edits and deletes are followed")
    func ranking() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            var ids: [String: Int64] = [:]
            for text in [
                "apple pie with cream and sugar and cinnamon on top of it", "apple apple apple", "banana bread", "pineapple juice",
                "Apples are red",
            ] {
                ids[text] = try await server.sent(text, to: chat, as: alice)["id"]?.intValue
            }
            func search(_ phrase: String) async throws -> [String] {
                let path = "/api/chat/\(chat)/search/\(phrase.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")/"
                return (try await server.get(path, token: bob.token).json["results"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }
            }

            let apples = try await search("APPLE")
            #expect(apples.first == "apple apple apple", "the most matches first: \(apples)")
            #expect(Set(apples) == ["apple apple apple", "apple pie with cream and sugar and cinnamon on top of it", "Apples are red"])
            #expect(try await search("apple pie") == ["apple pie with cream and sugar and cinnamon on top of it"])
            #expect(try await search("pie apple").isEmpty, "words in order")
            #expect(try await search("ban") == ["banana bread"], "the last word as a prefix")

            let edit = "/api/chat/\(chat)/messages/\(ids["banana bread"] ?? 0)/"
            _ = try await server.patch(edit, token: alice.token, json: ["message": "cherry bread"])
            #expect(try await search("banana").isEmpty)
            #expect(try await search("cherry") == ["cherry bread"])
            _ = try await server.delete("/api/chat/\(chat)/messages/\(ids["apple apple apple"] ?? 0)/", token: alice.token)
            #expect(try await search("apple").count == 2, "a deleted message is never found")
        }
    }

    @Test("pages of equal matches, newest first, with count and links, no gap or repeat")
    func paging() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            for n in 1...12 { _ = try await server.sent(n.isMultiple(of: 3) ? "hay" : "needle", to: chat, as: alice) }
            _ = try await server.sent("needles", to: chat, as: bob)
            var seqs: [Int64] = []
            var next: String? = "/api/chat/\(chat)/search/needle/?limit=3"
            var pages = 0
            while let path = next, pages < 10 {
                let page = try await server.get(path.replacingOccurrences(of: server.baseURL, with: ""), token: bob.token).json
                #expect(page["count"] == 9)
                seqs += (page["results"]?.arrayValue ?? []).compactMap { $0["seq"]?.intValue }
                next = page["next"]?.stringValue
                pages += 1
            }
            #expect(pages == 3)
            #expect(seqs.count == 9 && Set(seqs).count == 9, "no repeat: \(seqs)")
            // "needle" and "needles" both match the prefix; the eight equal "needle"s come newest first.
            let equal = seqs.filter { $0 != 13 }
            #expect(equal == equal.sorted(by: >), "\(seqs)")
            #expect(try await server.get("/api/chat/\(chat)/search/needle/?offset=100", token: bob.token).json["results"] == [])
        }
    }

    @Test("query syntax in a phrase is only text: never an error")
    func syntaxIsText() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            _ = try await server.sent(#"say "apple" OR banana: (NEAR) * -x it's"#, to: chat, as: alice)
            for phrase in [
                "\"apple", "apple*", "apple OR banana", "NEAR(apple", "banana:", "-x", "(near)", "it's", "'", "!!!", "*", "\\", "a & b | !c", "<->",
                "apple:*", "ünïcödé", "日本語",
            ] {
                let encoded = phrase.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let reply = try await server.get("/api/chat/\(chat)/search/\(encoded)/", token: bob.token)
                #expect(reply.status == .ok || reply.status == .noContent, "\(phrase) → \(reply.status) \(reply.body)")
            }
            #expect(try await server.get("/api/chat/\(chat)/search/%22apple/", token: bob.token).json["count"] == 1)
            #expect(try await server.get("/api/chat/\(chat)/search/or%20banana/", token: bob.token).json["count"] == 1)
            #expect(try await server.get("/api/chat/\(chat)/search/!!!/", token: bob.token).status == .noContent)
        }
    }
}
