import ChatBackend
import Testing

@Suite("Health and readiness")
struct HealthTests {
    @Test("/healthz and /readyz answer without a token, never cached, naming each readiness check")
    func healthAndReadiness() async throws {
        try await TestServer.run { server in
            let health = try await server.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.json == ["status": "ok"])
            #expect(health.headers[.cacheControl] == "no-store")
            let ready = try await server.get("/readyz")
            #expect(ready.status == .ok)
            #expect(ready.json == ["status": "ready", "checks": ["database": "ok", "channel_layer": "ok", "accepting": "ok"]])
            #expect(ready.headers[.cacheControl] == "no-store")
        }
    }

    @Test("while the server drains, readiness is false and new sockets are refused, on a connection kept open")
    func readinessDuringDrain() async throws {
        let database = try await TestServer.freshDatabase()
        let (observer, port, chat, token) = try await TestServer.run(database: database) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            // A socket that is being served keeps the server draining for a moment.
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            return (socket, server.port, chat, alice.token)
        }
        _ = (observer, port, chat, token)
        // Once draining has begun, the listener is closed: no new connection gets in at all.
        let refused = await #expect(throws: (any Error).self) { try await TestSocket.connect(port: port, chat: chat, token: token) }
        #expect(refused != nil)
    }
}
