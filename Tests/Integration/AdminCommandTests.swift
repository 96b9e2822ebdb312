@testable import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Logging
import Testing

/// The admin commands' work (`chat-server user|token|seed`), run against a database a live
/// server shares, and checked as a user of that server sees it.
@Suite("Admin commands")
struct AdminCommandTests {
    static let password = "Pr0be-pass-2020"

    /// A migrated, fresh database and the configuration an admin command reads for it.
    static func migratedDatabase() async throws -> (DatabaseLocation, AppConfiguration) {
        let location = try await TestServer.freshDatabase()
        let configuration = AppConfiguration.testing(storage: try TestBackend.current.storage(of: location))
        try await migrateDatabase(configuration)
        return (location, configuration)
    }

    /// Logs in over REST; the token, or nil when refused.
    static func logIn(_ server: TestServer, _ email: String, password: String = password) async throws -> String? {
        let reply = try await server.post("/api/rest-auth/login/", json: ["email": .string(email), "password": .string(password)])
        return reply.status == .ok ? reply.json["key"]?.stringValue : nil
    }

    @Test("a command refuses a database with pending migrations and says to run `chat-server migrate`")
    func refusesPendingMigrations() async throws {
        let location = try await TestServer.freshDatabase()
        let configuration = AppConfiguration.testing(storage: try TestBackend.current.storage(of: location))
        let error = await #expect(throws: AdminError.self) { _ = try await Admin.listUsers(configuration, limit: 10) }
        #expect(error?.description.contains("run `chat-server migrate`") == true)
    }

    @Test("user create: the account logs in at once and `user list` shows it; bad input is refused with a reason")
    func createAndList() async throws {
        let (location, configuration) = try await Self.migratedDatabase()
        let user = try await Admin.createUser(configuration, email: "Ada@Example.com", username: "ada", password: Self.password)
        #expect(user.isActive && user.emailVerified)
        let lines = try await Admin.listUsers(configuration, limit: 10).map(Admin.listLine)
        #expect(lines == ["\(user.uuid.uuidString.lowercased())\tada\tAda@Example.com\tactive"])

        await #expect(throws: AdminError("a user is already registered with the e-mail ada@example.com")) {
            _ = try await Admin.createUser(configuration, email: "ada@example.com", username: "ada2", password: Self.password)
        }
        await #expect(throws: AdminError.self, "the password policy of registration") {
            _ = try await Admin.createUser(configuration, email: "bob@example.com", username: "bob", password: "12345678")
        }
        await #expect(throws: AdminError.self) {
            _ = try await Admin.createUser(configuration, email: "not-an-address", username: "carl", password: Self.password)
        }

        try await TestServer.run(database: location) { server in
            let token = try #require(try await Self.logIn(server, "ada@example.com"))
            let me = try await server.get("/api/user/currentuser/", token: token)
            #expect(me.status == .ok)
            #expect(me.json["username"]?.stringValue == "ada")
        }
    }

    @Test("user deactivate: the user's token gets 401 and log-in fails; token revoke: the old token gets 401, log-in works")
    func deactivateAndRevoke() async throws {
        let (location, configuration) = try await Self.migratedDatabase()
        let ada = try await Admin.createUser(configuration, email: "ada@example.com", username: "ada", password: Self.password)
        _ = try await Admin.createUser(configuration, email: "bob@example.com", username: "bob", password: Self.password)

        try await TestServer.run(database: location) { server in
            // token revoke, by username: every token goes, the account stays.
            let first = try #require(try await Self.logIn(server, "bob@example.com"))
            let second = try #require(try await Self.logIn(server, "bob@example.com"))
            let revoked = try await Admin.revokeTokens(configuration, "BOB")
            #expect(revoked.revokedTokens == 2)
            #expect(try await server.get("/api/user/currentuser/", token: first).status == .unauthorized)
            #expect(try await server.get("/api/user/currentuser/", token: second).status == .unauthorized)
            let again = try #require(try await Self.logIn(server, "bob@example.com"))
            #expect(try await server.get("/api/user/currentuser/", token: again).status == .ok)

            // user deactivate, by uuid: the token goes and the password no longer logs in.
            let token = try #require(try await Self.logIn(server, "ada@example.com"))
            let deactivated = try await Admin.deactivateUser(configuration, ada.uuid.uuidString)
            #expect(deactivated.revokedTokens == 1)
            #expect(try await server.get("/api/user/currentuser/", token: token).status == .unauthorized)
            #expect(try await Self.logIn(server, "ada@example.com") == nil)
            #expect(try await Admin.listUsers(configuration, limit: 10).map(Admin.listLine).contains {
                $0.hasPrefix(ada.uuid.uuidString.lowercased()) && $0.hasSuffix("\tinactive")
            })
            // By e-mail it is found too; an unknown name is refused with a reason.
            #expect(try await Admin.revokeTokens(configuration, "ADA@example.com").revokedTokens == 0)
            await #expect(throws: AdminError("no user with the e-mail, username or uuid 'nobody'")) {
                _ = try await Admin.revokeTokens(configuration, "nobody")
            }
        }
    }

    @Test("seed: N users who log in, friends in a row, M group chats of K messages each with last_seq K; a second run adds nothing")
    func seed() async throws {
        let (location, configuration) = try await Self.migratedDatabase()
        let report = try await Admin.seed(configuration, users: 4, chats: 3, messages: 7)
        #expect(report == Admin.SeedReport(usersCreated: 4, friendshipsCreated: 3, chatsCreated: 3, messagesCreated: 21))
        let again = try await Admin.seed(configuration, users: 4, chats: 3, messages: 7)
        #expect(again == Admin.SeedReport(usersExisting: 4, friendshipsExisting: 3, chatsExisting: 3))
        await #expect(throws: AdminError.self) { _ = try await Admin.seed(configuration, users: 10_001, chats: 0, messages: 0) }

        let chatUUIDs = try await TestServer.run(database: location) { server in
            var chatUUIDs: Set<String> = []
            for index in 1...4 {
                let token = try #require(try await Self.logIn(server, Admin.seedEmail(index), password: Admin.defaultSeedPassword))
                let friends = try await server.get("/api/user/friends/", token: token)
                #expect(friends.json["count"]?.intValue == (index == 1 || index == 4 ? 1 : 2))
                let groups = try await server.get("/api/chat/mychats/groups/", token: token)
                guard case .array(let chats)? = groups.json["results"] else { continue }
                for chat in chats {
                    let name = try #require(chat["name"]?.stringValue)
                    #expect(chat["lastmessage"]?.stringValue == "Demo message 7 in \(name)")
                    let uuid = try #require(chat["uuid"]?.stringValue)
                    chatUUIDs.insert(uuid)
                    // Each chat holds its creator and the creator's friends: seed-1 has one, the others two.
                    let detail = try await server.get("/api/chat/\(uuid)/", token: token)
                    guard case .array(let participants)? = detail.json["participants"] else { Issue.record("no participants"); continue }
                    #expect(participants.count == (name == Admin.seedChatName(1) ? 2 : 3), "\(name)")
                }
            }
            return chatUUIDs
        }
        #expect(chatUUIDs.count == 3)
        let logger = Logger(label: "admin-test")
        try await openDatabase(location, logger: logger).whileRunning { database in
            let store = ChatStore(database: database)
            for text in chatUUIDs {
                let uuid = try #require(UUID(uuidString: text))
                let chat = try #require(try await store.chat(uuid: uuid))
                #expect(chat.lastSeq == 7)
                let seqs = try await store.messages(chatID: chat.id, afterSeq: 0, limit: 100).map(\.seq)
                #expect(seqs == Array(1...7))
            }
        }
    }

    @Test("user deactivate closes the user's open sockets: at once through Redis, else at the socket's next command after the re-check interval")
    func deactivateClosesSockets() async throws {
        let location = try await TestServer.freshDatabase()
        let configuration = AppConfiguration.testing(storage: try TestBackend.current.storage(of: location))
        let viaRedis = configuration.redisURL != nil
        try await TestServer.run(database: location, configure: { if !viaRedis { $0.socketReauthorizationInterval = .milliseconds(500) } }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            #expect(try await socket.fetch()["command"]?.stringValue == "fetch_messages")
            _ = try await Admin.deactivateUser(configuration, alice.email)
            if !viaRedis {
                // No channel between the command and the server: the socket finds out when it next
                // sends a command after its re-check interval (here 0.5 s, 10 s by default).
                try await Task.sleep(for: .milliseconds(700))
                socket.send(["command": "fetch_messages", "last_message_time_stamp": "0"])
            }
            #expect(try await socket.closedByServer(timeout: .seconds(3))?.closeCode == .policyViolation)
        }
    }
}
