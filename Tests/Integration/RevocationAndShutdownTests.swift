import ChatBackend
import Foundation
import Logging
import Testing

@Suite("Revocation and shutdown")
struct RevocationAndShutdownTests {
    @Test("log-out closes that token's sockets at once (1008); the user's other devices keep theirs")
    func logoutClosesSockets() async throws {
        try await TestServer.run { server in
            let (alice, _, phone, laptop, _) = try await Self.aliceOnTwoDevices(server)
            #expect(try await server.post("/api/rest-auth/logout/", token: alice.token).status == .ok)
            // No frame from the client is needed: the socket closes by itself, well within the 10 s re-check.
            let closed = try await phone.closedByServer(timeout: .seconds(3))
            #expect(closed?.closeCode == .policyViolation)
            #expect(try await laptop.fetch()["command"]?.stringValue == "fetch_messages", "the other device's socket works")
            await laptop.close()
        }
    }

    @Test("a password change closes the other devices' sockets at once and keeps the caller's")
    func passwordChangeClosesOtherSockets() async throws {
        try await TestServer.run { server in
            let (alice, _, mine, theirs, bobs) = try await Self.aliceOnTwoDevices(server)
            let changed = try await server.post(
                "/api/rest-auth/password/change/", token: alice.token,
                json: ["new_password1": "An0ther-pass-2020", "new_password2": "An0ther-pass-2020"]
            )
            #expect(changed.status == .ok)
            #expect(try await theirs.closedByServer(timeout: .seconds(3))?.closeCode == .policyViolation)
            #expect(try await mine.fetch()["command"]?.stringValue == "fetch_messages")
            #expect(try await bobs.fetch()["command"]?.stringValue == "fetch_messages")
            await mine.close()
            await bobs.close()
        }
    }

    /// Alice signed in on two devices, each with a socket on her chat with Bob, and Bob's socket.
    private static func aliceOnTwoDevices(
        _ server: TestServer
    ) async throws -> (alice: Person, chat: String, first: TestSocket, second: TestSocket, bob: TestSocket) {
        let alice = try await server.register("alice")
        let bob = try await server.register("bob")
        let chat = try await server.befriend(alice, bob)
        let login = try await server.post("/api/rest-auth/login/", json: ["email": .string(alice.email), "password": "Pr0be-pass-2020"])
        let secondToken = try #require(login.json["key"]?.stringValue)
        return (
            alice, chat,
            try await TestSocket.connect(port: server.port, chat: chat, token: alice.token),
            try await TestSocket.connect(port: server.port, chat: chat, token: secondToken),
            try await TestSocket.connect(port: server.port, chat: chat, token: bob.token)
        )
    }

    @Test("shutdown under a steady sender: every message stored reached its sender before the 1001")
    func shutdownLosesNoEcho() async throws {
        let database = try await TestServer.freshDatabase()
        let (sender, chat) = try await TestServer.run(database: database) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let sender = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            // A steady sender that goes on while the server shuts down.
            Task {
                for index in 0..<1_000 {
                    // Bursts of three, so some are always in hand when the shutdown comes.
                    for part in 0..<3 { sender.send(["command": "new_message", "message": .string("m\(index).\(part)")]) }
                    try await Task.sleep(for: .milliseconds(2))
                    if sender.isClosed { break }
                }
            }
            // Twenty stored (echoed) before the shutdown; a sender this fast also gets "not stored:
            // busy" answers once 64 of its messages wait, and those are not stored.
            let deadline = ContinuousClock.now + .seconds(30)
            while sender.all.filter({ $0["command"]?.stringValue == "new_message" }).count < 20, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            return (sender, chat)
        }
        #expect(try await sender.closedByServer()?.closeCode == .goingAway)
        let echoed = Set(sender.all.filter { $0["command"]?.stringValue == "new_message" }.compactMap { $0["message"]?["id"]?.intValue })
        let stored = try await openDatabase(database, logger: Logger(label: "test")).whileRunning { database in
            try await database.query("SELECT id FROM messages").map { try $0.int("id") }
        }
        #expect(stored.count >= 20)
        let unechoed = Set(stored).subtracting(echoed)
        #expect(unechoed.isEmpty, "\(unechoed.count) of \(stored.count) stored messages never reached their sender (chat \(chat))")
    }
}
