import ChatBackend
import ChatTestSupport
import Hummingbird
import Logging
import Testing

/// `/metrics` and the access log: what an operator watches the server by.
@Suite("Metrics and logs")
struct ObservabilityTests {
    static let token = "scrape-secret-1"

    @Test("every metric family is served, and moves under sign-ups, a friendship, sockets, messages and a throttled log-in")
    func familiesMove() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.metricsToken = Self.token
            configuration.rateLimits.loginPerAccount = RateLimit(perSecond: 0.01, burst: 1)
        }) { server in
            let before = try await scrape(server)
            let (alice, _, _, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            for n in 0..<3 { aliceSocket.send(["command": "new_message", "message": .string("m\(n)")]) }
            _ = try await bobSocket.frames(count: 3)
            _ = try await aliceSocket.frames(count: 3)
            let login: JSONValue = ["email": .string(alice.email), "password": "not-the-password-1"]
            #expect(try await server.post("/api/rest-auth/login/", json: login).status == .badRequest)
            #expect(try await server.post("/api/rest-auth/login/", json: login).status == .tooManyRequests)
            let after = try await scrape(server)

            let routes = Set(after.samples.compactMap { $0.labels["route"] })
            #expect(after.sum("chat_http_requests_total", ["route": "/api/rest-auth/registration", "method": "POST", "status": "201"]) >= 2, "\(routes)")
            #expect(after.sum("chat_http_request_duration_seconds_count") > before.sum("chat_http_request_duration_seconds_count"))
            #expect(!routes.contains { $0.contains(alice.uuid) }, "routes are templates, never raw paths: \(routes)")
            #expect(after.sum("chat_sockets_open") == 2)
            #expect(after.sum("chat_messages_stored_total") - before.sum("chat_messages_stored_total") == 3)
            // The frame is counted once all its sockets wrote it: the author's own echo included.
            #expect(after.sum("chat_fanout_duration_seconds_count") == 3)
            #expect(after.sum("chat_db_query_duration_seconds_count") > before.sum("chat_db_query_duration_seconds_count"))
            #expect(after.has("chat_db_connections_in_use"))
            #expect(after.sum("chat_login_attempts_total", ["outcome": "refused"]) == 1)
            #expect(after.sum("chat_login_attempts_total", ["outcome": "throttled"]) == 1)
            #expect(after.has("chat_login_attempts_total", ["outcome": "success"]))
            #expect(after.sum("chat_throttled_requests_total", ["kind": "login_per_account"]) == 1)
            #expect(after.sum("chat_throttled_requests_total", ["kind": "registration_per_address"]) == 0)
            if TestBackend.current == .postgres {
                #expect(after.sum("chat_redis_connected", ["connection": "publisher"]) == 1)
                #expect(after.sum("chat_redis_connected", ["connection": "subscriber"]) == 1)
                #expect(after.has("chat_redis_reconnects_total"))
                #expect(after.sum("chat_redis_publish_duration_seconds_count") >= 3)
            }
            await aliceSocket.close()
            await bobSocket.close()
        }
    }

    @Test("/metrics: 404 unless a token is configured; then 401 without it or with another, 200 in Prometheus's text with it")
    func scrapeProtection() async throws {
        try await TestServer.run { server in
            let bare = try await server.get("/metrics")
            let presenting = try await server.request(.get, "/metrics", headers: [.authorization: "Bearer anything"])
            #expect(bare.status == .notFound)
            #expect(presenting.status == .notFound)
        }
        try await TestServer.run(configure: { $0.metricsToken = Self.token }) { server in
            let missing = try await server.get("/metrics")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await server.request(.get, "/metrics", headers: [.authorization: "Bearer wrong-secret"]).status == .unauthorized)
            #expect(try await server.request(.get, "/metrics", headers: [.authorization: "Token \(Self.token)"]).status == .unauthorized)
            let scraped = try await server.request(.get, "/metrics", headers: [.authorization: "Bearer \(Self.token)"])
            #expect(scraped.status == .ok)
            #expect(scraped.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(scraped.body.contains("# TYPE chat_sockets_open gauge"))
        }
    }

    @Test("two servers in one process keep their metrics apart")
    func serversApart() async throws {
        try await TestServer.run(configure: { $0.metricsToken = Self.token }) { first in
            _ = try await first.register("alice")
            try await TestServer.run(configure: { $0.metricsToken = Self.token }) { second in
                let route = ["route": "/api/rest-auth/registration"]
                let (firsts, seconds) = (try await scrape(first), try await scrape(second))
                #expect(firsts.sum("chat_http_requests_total", route) == 1)
                #expect(seconds.sum("chat_http_requests_total", route) == 0)
            }
        }
    }

    @Test("each request logs one access line at info: method, route template, status, duration and request id")
    func accessLine() async throws {
        let recorder = LogRecorder()
        let uuid = try await TestServer.run(configure: {
            $0.logHandler = recorder.factory
            $0.logLevel = .info
        }) { server in
            let alice = try await server.register("alice")
            #expect(try await server.get("/api/user/\(alice.uuid)/", token: alice.token).status == .ok)
            #expect(try await server.get("/no/such/path").status == .notFound)
            return alice.uuid
        }
        let lines = recorder.records.filter { $0.metadata["http.route"] != nil }
        let user = try #require(lines.first { $0.metadata["http.route"] == "/api/user/{uuid}" })
        #expect(user.level == .info)
        #expect(user.message == "GET /api/user/{uuid} 200")
        #expect(user.metadata["http.method"] == "GET")
        #expect(user.metadata["http.status"]?.description == "200")
        #expect(Double(user.metadata["duration_ms"]?.description ?? "") ?? -1 >= 0)
        #expect(user.metadata["hb.request.id"] != nil)
        #expect(!lines.contains { $0.message.contains(uuid) }, "the raw path never shows")
        let missing = try #require(lines.first { $0.metadata["http.route"] == "NotFound" })
        #expect(missing.metadata["http.status"]?.description == "404")
    }
}

/// One scrape of `/metrics`, read into samples.
private func scrape(_ server: TestServer) async throws -> Scrape {
    let reply = try await server.request(.get, "/metrics", headers: [.authorization: "Bearer \(ObservabilityTests.token)"])
    guard reply.status == .ok else { throw TestFailure("/metrics answered \(reply.status)") }
    return Scrape(text: reply.body)
}

/// Prometheus's text format, as far as the tests read it: `name{label="value",...} number` lines.
private struct Scrape {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]

    init(text: String) {
        samples = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// `name`'s samples whose labels include `labels`.
    func matching(_ name: String, _ labels: [String: String] = [:]) -> [Sample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// Whether a sample of `name` whose labels include `labels` is served.
    func has(_ name: String, _ labels: [String: String] = [:]) -> Bool {
        !matching(name, labels).isEmpty
    }

    /// The sum of `name`'s samples whose labels include `labels`.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        matching(name, labels).map(\.value).reduce(0, +)
    }
}
