@testable import ChatBackend
import Hummingbird
import Logging
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

    @Test("readiness names what fails: a draining server, a database that does not answer")
    func readinessFailures() async throws {
        try await SQLiteDatabase.open(path: nil, logger: Logger(label: "health-test")).whileRunning { database in
            let controller = HealthController(store: ChatStore(database: database), channelLayer: LocalChannelLayer(hub: ChatHub()))
            let draining = await controller.readiness(draining: true)
            #expect(draining.status == .serviceUnavailable)
            let answer = try JSONValue.parse(await draining.collectedBody().readableBytesView)
            #expect(answer == ["status": "not ready", "checks": ["database": "ok", "channel_layer": "ok", "accepting": "failing"]])
            #expect(await controller.readiness(draining: false).status == .ok)
        }
        // A database that is gone: its check fails, promptly.
        let closed = try await SQLiteDatabase.open(path: nil, logger: Logger(label: "health-test"))
        _ = try await closed.whileRunning { _ in }
        let controller = HealthController(store: ChatStore(database: closed), channelLayer: LocalChannelLayer(hub: ChatHub()))
        let down = await controller.readiness(draining: false)
        #expect(down.status == .serviceUnavailable)
        let answer = try JSONValue.parse(await down.collectedBody().readableBytesView)
        #expect(answer["checks"]?["database"] == "failing")
    }
}
