@testable import ChatBackend
import ChatTestSupport
import Foundation
import Logging
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("migrations are known by name, applied once, and listed with their state")
    func appliedOnceByName() async throws {
        let logger = Logger(label: "migration-test")
        try await SQLiteDatabase.open(path: nil, logger: logger).whileRunning { database in
            #expect(try await Migrations.status(of: database).allSatisfy { !$0.applied })
            try await Migrations.apply(to: database, logger: logger)
            try await Migrations.apply(to: database, logger: logger)
            let status = try await Migrations.status(of: database)
            #expect(status.map(\.name) == [
                "0001_initial", "0002_google_subject", "0003_message_seq", "0004_sends_edits_reads_search",
            ])
            #expect(status.allSatisfy { $0.applied })
        }
    }

    @Test("a database migrated by the first release (steps numbered by position) carries over and is not migrated again")
    func numberedStepsCarryOver() async throws {
        let logger = Logger(label: "migration-test")
        try await SQLiteDatabase.open(path: nil, logger: logger).whileRunning { database in
            // The first release: step 1 applied and recorded as version 1 in schema_migrations.
            _ = try await database.query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            for statement in Migrations.steps(database.dialect)[0].statements {
                _ = try await database.query(statement)
            }
            _ = try await database.query("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)")

            try await Migrations.apply(to: database, logger: logger)
            #expect(try await Migrations.status(of: database).allSatisfy { $0.applied })
            let columns = try await database.query("SELECT name FROM pragma_table_info('users')").map { try $0.string("name") }
            #expect(columns.contains("google_subject"))
        }
    }

    @Test("a database of the previous schema gets each message's seq in (time stamp, id) order, per chat; new messages follow on")
    func seqBackFill() async throws {
        let logger = Logger(label: "migration-test")
        let location = try await TestBackend.current.freshDatabase()
        try await openDatabase(location, logger: logger).whileRunning { database in
            try await Migrations.apply(to: database, logger: logger, through: "0002_google_subject")
            let ann = try await Self.insert(database, "INSERT INTO users (uuid, email, email_key, username, username_key, created_at) VALUES (?, 'ann@example.com', 'ann@example.com', 'ann', 'ann', 0) RETURNING id")
            var chats: [String: Int64] = [:]
            for name in ["A", "B", "empty"] {
                chats[name] = try await Self.insert(database, "INSERT INTO chats (uuid, is_group, last_activity_at, created_at) VALUES (?, 0, 0, 0) RETURNING id")
            }
            // Inserted out of time order, with ties: the content names the seq each should get.
            let messages: [(chat: String, stamp: Int64, content: String)] = [
                ("A", 50, "A3"), ("B", 10, "B2"), ("A", 10, "A1"), ("A", 50, "A4"), ("B", 5, "B1"), ("A", 20, "A2"), ("A", 50, "A5"),
            ]
            var ids: [String: Int64] = [:]
            for message in messages {
                ids[message.content] = try await database.query(
                    "INSERT INTO messages (chat_id, author_id, content, time_stamp) VALUES (?, ?, ?, ?) RETURNING id",
                    [.int(chats[message.chat]!), .int(ann), .text(message.content), .int(message.stamp)]
                ).first?.int("id")
            }

            try await Migrations.apply(to: database, logger: logger)

            let numbered = try await database.query("SELECT chat_id, seq, content FROM messages ORDER BY chat_id, seq")
            for row in numbered {
                let (chat, seq) = (try row.int("chat_id"), try row.int("seq"))
                #expect(try row.string("content") == "\(chat == chats["A"] ? "A" : "B")\(seq)")
            }
            #expect(numbered.count == messages.count)
            let lastSeqs = try await database.query("SELECT id, last_seq FROM chats").map { (try $0.int("id"), try $0.int("last_seq")) }
            #expect(Dictionary(uniqueKeysWithValues: lastSeqs) == [chats["A"]!: 5, chats["B"]!: 2, chats["empty"]!: 0])
            await #expect(throws: (any Error).self, "the same seq twice in a chat") {
                _ = try await database.query(
                    "INSERT INTO messages (chat_id, seq, author_id, content, time_stamp) VALUES (?, 1, ?, 'again', 60)", [.int(chats["A"]!), .int(ann)]
                )
            }

            // The store carries on from the back-filled numbers, and reads them by either cursor.
            let store = ChatStore(database: database, clock: { Timestamp(microseconds: 30) })
            let next = try await store.addMessage(chatID: chats["A"]!, authorID: ann, content: "A6") { _ in }
            #expect(next.seq == 6 && next.timeStamp.microseconds == 51, "just after the latest, though the clock says 30")
            #expect(try await store.addMessage(chatID: chats["empty"]!, authorID: ann, content: "first") { _ in }.seq == 1)
            #expect(try await store.messages(chatID: chats["A"]!, before: nil, limit: 15).map(\.content) == ["A6", "A5", "A4", "A3", "A2", "A1"])
            #expect(try await store.messages(chatID: chats["A"]!, before: .seq(4), limit: 15).map(\.seq) == [3, 2, 1])
            let atA4 = HistoryCursor(timeStamp: Timestamp(microseconds: 50), messageID: ids["A4"]!)
            #expect(try await store.messages(chatID: chats["A"]!, before: atA4, limit: 15).map(\.seq) == [3, 2, 1])
        }
    }

    @Test("0004 gives existing groups their creator (the first participant) and puts existing messages in the search index")
    func sendsEditsReadsSearchBackFill() async throws {
        let logger = Logger(label: "migration-test")
        let location = try await TestBackend.current.freshDatabase()
        try await openDatabase(location, logger: logger).whileRunning { database in
            try await Migrations.apply(to: database, logger: logger, through: "0003_message_seq")
            var users: [Int64] = []
            for name in ["ann", "bob"] {
                users.append(try await Self.insert(
                    database,
                    "INSERT INTO users (uuid, email, email_key, username, username_key, created_at) VALUES (?, '\(name)@example.com', '\(name)@example.com', '\(name)', '\(name)', 0) RETURNING id"
                ))
            }
            let group = try await Self.insert(database, "INSERT INTO chats (uuid, name, is_group, last_activity_at, created_at, last_seq) VALUES (?, 'g', 1, 0, 0, 2) RETURNING id")
            let pair = try await Self.insert(database, "INSERT INTO chats (uuid, is_group, last_activity_at, created_at) VALUES (?, 0, 0, 0) RETURNING id")
            for (chat, user) in [(group, users[0]), (group, users[1]), (pair, users[1]), (pair, users[0])] {
                _ = try await database.query("INSERT INTO chat_participants (chat_id, user_id) VALUES (?, ?)", [.int(chat), .int(user)])
            }
            for (seq, content) in [(1, "hello world"), (2, "goodbye")] {
                _ = try await database.query(
                    "INSERT INTO messages (chat_id, seq, author_id, content, time_stamp) VALUES (?, ?, ?, ?, ?)",
                    [.int(group), .int(Int64(seq)), .int(users[0]), .text(content), .int(Int64(seq))]
                )
            }

            try await Migrations.apply(to: database, logger: logger)

            let store = ChatStore(database: database)
            let creators = try await database.query("SELECT id, creator_id FROM chats").map { (try $0.int("id"), try $0.optionalInt("creator_id")) }
            #expect(Dictionary(uniqueKeysWithValues: creators) == [group: users[0], pair: nil])
            #expect(try await store.searchMessages(chatID: group, phrase: "World", limit: 8, offset: 0).items.map(\.content) == ["hello world"])
            // New sends are indexed as they are stored, and their key makes a retry find the first.
            let first = try await store.addMessage(chatID: group, authorID: users[1], content: "world peace", clientID: "k") { _ in }
            let again = try await store.addMessage(chatID: group, authorID: users[1], content: "other", clientID: "k") { _ in }
            #expect(first.isNew && first.message.seq == 3 && !again.isNew && again.message == first.message)
            #expect(try await store.searchMessages(chatID: group, phrase: "world", limit: 8, offset: 0).total == 2)
            let unread = try await store.readState(userID: users[1], chatID: group)
            #expect(unread == ChatReadState(chatID: group, lastSeq: 3, readSeq: 0, unread: 2), "Ann's two, not Bob's own")
        }
    }

    /// Runs an `INSERT … RETURNING id` with a new uuid as its one bind, and returns the id.
    private static func insert(_ database: any SQLDatabase, _ sql: String) async throws -> Int64 {
        try #require(try await database.query(sql, [.text(UUID().uuidString.lowercased())]).first).int("id")
    }
}
