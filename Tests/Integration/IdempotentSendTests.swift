@testable import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Logging
import Testing

/// The store's idempotent sends under group commit: fresh sends and retries (of stored sends and of
/// sends in the same batch) mixed in concurrent batches, on the current backend.
@Suite("Idempotent sends")
struct IdempotentSendTests {
    @Test(
        "concurrent sends with retries among them: each key stored once, every retry gets its first message, and seq has no gap",
        arguments: [20_261_202, UInt64.random(in: 1...UInt64.max)]
    )
    func retriesAmongFreshSends(seed: UInt64) async throws {
        let location = try await TestBackend.current.freshDatabase()
        do {
            try await Self.sendWithRetries(seed: seed, location: location)
        } catch {
            await TestBackend.current.dropDatabase(location)
            throw error
        }
        await TestBackend.current.dropDatabase(location)
    }

    private static func sendWithRetries(seed: UInt64, location: DatabaseLocation) async throws {
        let logger = Logger(label: "idempotent-send-test")
        try await openDatabase(location, logger: logger).whileRunning { database in
            try await Migrations.apply(to: database, logger: logger)
            let store = ChatStore(database: database)
            let (chat, authors) = try await Self.groupOfThree(database)
            var random = SeededRandom(seed: seed)
            var stored: [String: Message] = [:]
            for round in 0..<8 {
                // A round: new keys, retries of keys stored in earlier rounds, retries of this
                // round's own keys, and sends without a key, all at once.
                var sends: [(author: Int64, key: String?)] = []
                for n in 0..<Int.random(in: 1...12, using: &random) {
                    let author = authors.randomElement(using: &random)!
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0 where !stored.isEmpty:
                        let key = stored.keys.sorted().randomElement(using: &random)!
                        sends.append((Self.author(of: key), key))
                    case 1: sends.append((author, nil))
                    default: sends.append((author, "\(author)-r\(round)-\(n % 3)"))
                    }
                }
                let results = try await withThrowingTaskGroup(of: (String?, StoredMessage).self) { group in
                    for send in sends {
                        group.addTask {
                            guard let key = send.key else {
                                return (nil, StoredMessage(message: try await store.addMessage(chatID: chat, authorID: send.author, content: "plain") { _ in }, isNew: true))
                            }
                            let author = Self.author(of: key)
                            return (key, try await store.addMessage(chatID: chat, authorID: author, content: key, clientID: key) { _ in })
                        }
                    }
                    return try await group.reduce(into: [(String?, StoredMessage)]()) { $0.append($1) }
                }
                for case (let key?, let result) in results {
                    if let first = stored[key] {
                        #expect(!result.isNew && result.message == first, "seed \(seed): a retry of \(key) got its first message")
                    } else if result.isNew {
                        stored[key] = result.message
                    }
                }
                // Within the round, every send of one key got the one message stored for it.
                for case (let key?, let result) in results { #expect(result.message == stored[key], "seed \(seed): \(key)") }
            }
            let seqs = try await database.query("SELECT seq FROM messages WHERE chat_id = ? ORDER BY seq", [.int(chat)]).map { try $0.int("seq") }
            #expect(seqs == Array(1...Int64(seqs.count)), "seed \(seed): seq runs 1, 2, 3, … with no gap")
            let keyed = try await database.query("SELECT count(*) AS n FROM messages WHERE client_id IS NOT NULL", []).first?.int("n")
            #expect(keyed == Int64(stored.count), "seed \(seed): one row per key")
        }
    }

    /// Keys name their author: `<author id>-…`.
    private static func author(of key: String) -> Int64 {
        Int64(key.prefix { $0 != "-" })!
    }

    /// A group chat of three users; returns its id and theirs.
    private static func groupOfThree(_ database: any SQLDatabase) async throws -> (chat: Int64, users: [Int64]) {
        var users: [Int64] = []
        for name in ["ann", "bob", "cat"] {
            users.append(try await insert(
                database,
                "INSERT INTO users (uuid, email, email_key, username, username_key, created_at) VALUES (?, '\(name)@example.com', '\(name)@example.com', '\(name)', '\(name)', 0) RETURNING id"
            ))
        }
        let chat = try await insert(database, "INSERT INTO chats (uuid, name, is_group, last_activity_at, created_at) VALUES (?, 'g', 1, 0, 0) RETURNING id")
        for user in users {
            _ = try await database.query("INSERT INTO chat_participants (chat_id, user_id) VALUES (?, ?)", [.int(chat), .int(user)])
        }
        return (chat, users)
    }

    private static func insert(_ database: any SQLDatabase, _ sql: String) async throws -> Int64 {
        try #require(try await database.query(sql, [.text(UUID().uuidString.lowercased())]).first).int("id")
    }
}
