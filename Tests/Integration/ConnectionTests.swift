import ChatBackend
import Logging
import NIOCore
import Testing

/// What the server does with connections themselves, seen from raw sockets: it says when it
/// closes one, waits for slow and idle clients only so long, caps how many it holds, pings
/// sockets, and does not take a client's leaving for its own error.
@Suite("Connections")
struct ConnectionTests {
    static let path = "/api/user/currentuser/"

    static func request(_ version: String = "HTTP/1.1", _ headers: String...) -> String {
        (["GET \(path) \(version)", "Host: 127.0.0.1"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
    }

    // MARK: Connection: close

    @Test("A request with Connection: close is answered with Connection: close, and the connection ends")
    func closeRequested() async throws {
        try await TestServer.run { server in
            let connection = try await RawConnection.open(port: server.port)
            try await connection.send(Self.request("HTTP/1.1", "Connection: close"))
            let response = try #require(try await connection.readResponse())
            #expect(response.status == 401)
            #expect(response.saysClose)
            #expect(try await connection.readUntilClosed() == "")
        }
    }

    @Test("HTTP/1.0 closes after each response unless it asks for keep-alive, and says so")
    func http10() async throws {
        try await TestServer.run { server in
            let plain = try await RawConnection.open(port: server.port)
            try await plain.send(Self.request("HTTP/1.0"))
            let answer = try #require(try await plain.readResponse())
            #expect(answer.saysClose)
            #expect(try await plain.readUntilClosed() == "")

            let kept = try await RawConnection.open(port: server.port)
            for _ in 0..<2 {
                try await kept.send(Self.request("HTTP/1.0", "Connection: keep-alive"))
                let response = try #require(try await kept.readResponse())
                #expect(response.status == 401)
                #expect(!response.saysClose)
            }
            await kept.close()
        }
    }

    @Test("A keep-alive request is answered on the same connection, which stays open")
    func keepAlive() async throws {
        try await TestServer.run { server in
            let connection = try await RawConnection.open(port: server.port)
            for _ in 0..<3 {
                try await connection.send(Self.request())
                let response = try #require(try await connection.readResponse())
                #expect(!response.saysClose)
            }
            await connection.close()
        }
    }

    /// How it was found: Python `requests` with one Session sends `Connection: close` on a pooled
    /// connection and reuses the connection unless the response says close.
    @Test("A pooling client that sends Connection: close on reused connections: 2,000 requests, no failure")
    func poolingClient() async throws {
        try await TestServer.run { server in
            var connection: RawConnection?
            var failures = 0
            var opened = 0
            for _ in 0..<2000 {
                if connection == nil {
                    connection = try await RawConnection.open(port: server.port)
                    opened += 1
                }
                let current = try #require(connection)
                do {
                    try await current.send(Self.request("HTTP/1.1", "Connection: close"))
                    if let response = try await current.readResponse(), response.status == 401 {
                        if response.saysClose {
                            await current.close()
                            connection = nil
                        }
                        continue
                    }
                } catch {}
                failures += 1
                await current.close()
                connection = nil
            }
            await connection?.close()
            #expect(failures == 0)
            #expect(opened == 2000)
        }
    }

    // MARK: Slow and idle clients

    @Test("A request line trickled a byte at a time is answered 408 and closed at the request deadline")
    func slowHead() async throws {
        try await TestServer.run(configure: { $0.connections.requestTimeout = .seconds(1) }) { server in
            let connection = try await RawConnection.open(port: server.port)
            let start = ContinuousClock.now
            let outbound = connection.outbound
            let trickle = Task {
                for byte in Self.request() {
                    try await outbound.write(ByteBuffer(string: String(byte)))
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { trickle.cancel() }
            let answer = try await connection.readUntilClosed(timeout: .seconds(5))
            let waited = ContinuousClock.now - start
            #expect(answer.hasPrefix("HTTP/1.1 408"))
            #expect(answer.lowercased().contains("connection: close"))
            #expect(waited >= .milliseconds(900) && waited < .seconds(3), "closed after \(waited)")
        }
    }

    @Test("A body trickled a byte at a time is answered 408 and closed at the request deadline")
    func slowBody() async throws {
        try await TestServer.run(configure: { $0.connections.requestTimeout = .seconds(1) }) { server in
            let connection = try await RawConnection.open(port: server.port)
            try await connection.send(
                "POST /api/rest-auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            let outbound = connection.outbound
            let trickle = Task {
                for _ in 0..<100 {
                    try await outbound.write(ByteBuffer(string: " "))
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { trickle.cancel() }
            let answer = try await connection.readUntilClosed(timeout: .seconds(5))
            #expect(answer.hasPrefix("HTTP/1.1 408"))
        }
    }

    @Test("An idle kept-alive connection is closed after the idle timeout")
    func idle() async throws {
        try await TestServer.run(configure: { $0.connections.idleTimeout = .seconds(1) }) { server in
            let connection = try await RawConnection.open(port: server.port)
            // Timed from before the request: the idle second starts when the answer is written,
            // after it, however late this client reads the answer.
            let start = ContinuousClock.now
            try await connection.send(Self.request())
            _ = try #require(try await connection.readResponse())
            #expect(try await connection.readUntilClosed(timeout: .seconds(5)) == "")
            #expect(ContinuousClock.now - start >= .seconds(1))
        }
    }

    // MARK: Caps

    /// Opens connections, each answered, until one is closed unanswered, and returns the answered
    /// ones, still open; nil when `limit` were answered. (The test client's own connection counts
    /// toward the total, and toward the address's when it comes from 127.0.0.1.)
    static func openUntilRefused(limit: Int, port: Int) async throws -> [RawConnection]? {
        var held: [RawConnection] = []
        for _ in 0..<limit {
            let connection = try await RawConnection.open(port: port)
            try? await connection.send(request())
            guard try await connection.readResponse() != nil else { return held }
            held.append(connection)
        }
        for connection in held { await connection.close() }
        return nil
    }

    @Test("A connection over the per-address cap is closed unanswered; one closing makes room")
    func perAddressCap() async throws {
        try await TestServer.run(configure: { $0.connections.maxConnectionsPerAddress = 3 }) { server in
            let held = try #require(try await Self.openUntilRefused(limit: 10, port: server.port))
            #expect((2...3).contains(held.count))
            await held[0].close()
            var admitted = false
            for _ in 0..<50 where !admitted {
                try await Task.sleep(for: .milliseconds(20))
                let again = try await RawConnection.open(port: server.port)
                try? await again.send(Self.request())
                admitted = try await again.readResponse() != nil
                await again.close()
            }
            #expect(admitted)
            for connection in held { await connection.close() }
        }
    }

    @Test("A connection over the total cap is closed unanswered")
    func totalCap() async throws {
        try await TestServer.run(configure: { $0.connections.maxConnections = 3 }) { server in
            let held = try #require(try await Self.openUntilRefused(limit: 10, port: server.port))
            #expect((2...3).contains(held.count))
            for connection in held { await connection.close() }
        }
    }

    // MARK: Sockets

    /// Alice, with a private chat whose socket she may open.
    static func aliceAndChat(_ server: TestServer) async throws -> (Person, chat: String) {
        let alice = try await server.register("alice")
        return (alice, try await server.befriend(alice, try await server.register("bob")))
    }

    @Test("A socket whose peer stops answering pings is closed with 1001")
    func deadPeer() async throws {
        try await TestServer.run(configure: { $0.connections.socketPingInterval = .milliseconds(300) }) { server in
            let (alice, chat) = try await Self.aliceAndChat(server)
            let connection = try await RawConnection.open(port: server.port)
            try await connection.send(RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: alice.token))
            let upgrade = try #require(try await connection.readResponse())
            #expect(upgrade.status == 101)
            // A ping, unanswered, then a close frame: 0x88, length, 1001 (0x03E9), reason.
            let rest = try await connection.readUntilClosed(timeout: .seconds(5))
            #expect(rest.contains("Ping timeout"))
        }
    }

    /// Daphne upgrades here; aiohttp and other pooling clients count on it. NIO's upgrader looks
    /// only at a connection's first request; ChatServerChannel upgrades the later ones itself.
    @Test("A socket upgrade on a kept-alive connection that already served a request")
    func upgradeAfterRequest() async throws {
        try await TestServer.run { server in
            let (alice, chat) = try await Self.aliceAndChat(server)
            let connection = try await RawConnection.open(port: server.port)
            try await connection.send(
                "GET /api/user/currentuser/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token \(alice.token)\r\n\r\n"
            )
            #expect(try await connection.readResponse()?.status == 200)
            try await connection.send(RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: alice.token))
            let upgrade = try #require(try await connection.readResponse())
            #expect(upgrade.status == 101)
            // RFC 6455 §1.3's example key and its answer.
            #expect(upgrade.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

            // The connection is now the chat's socket.
            try await connection.sendTextFrame(#"{"command": "fetch_messages", "last_message_time_stamp": "0"}"#)
            let answer = try #require(try await connection.readFrame())
            #expect(answer.opcode == 0x1)
            let json = try JSONValue.parse(answer.payload)
            #expect(json["command"]?.stringValue == "fetch_messages")
            #expect(json["messages"] != nil)
            await connection.close()

            // Refused on a kept-alive connection: the router's 401 and its JSON body, as on a first request.
            let refused = try await RawConnection.open(port: server.port)
            try await refused.send(Self.request())
            #expect(try await refused.readResponse()?.status == 401)
            try await refused.send(RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: "not-a-token"))
            let refusal = try #require(try await refused.readResponse())
            #expect(refusal.status == 401)
            #expect(try JSONValue.parse(Array(refusal.body.utf8)) == ["detail": "Invalid token."])
            #expect(refusal.saysClose)
            #expect(try await refused.readUntilClosed() == "")
        }
    }

    /// The client need not wait for the 101: what it sends after the upgrade request, on the same
    /// write, was read as HTTP and must reach the socket.
    @Test("A frame sent with a kept-alive connection's upgrade request, before the 101, reaches the socket")
    func frameWithLateUpgrade() async throws {
        try await TestServer.run { server in
            let (alice, chat) = try await Self.aliceAndChat(server)
            let connection = try await RawConnection.open(port: server.port)
            try await connection.send(Self.request())
            #expect(try await connection.readResponse()?.status == 401)
            let frame = RawConnection.textFrame(#"{"command": "fetch_messages", "last_message_time_stamp": "0"}"#)
            var both = ByteBuffer(string: RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: alice.token))
            both.writeImmutableBuffer(frame)
            try await connection.outbound.write(both)
            #expect(try await connection.readResponse()?.status == 101)
            let answer = try #require(try await connection.readFrame())
            #expect(try JSONValue.parse(answer.payload)["command"]?.stringValue == "fetch_messages")
            await connection.close()
        }
    }

    // MARK: Logs

    @Test("A client that leaves in the middle of its request is no error of the server's")
    func clientLeaves() async throws {
        let recorder = LogRecorder()
        try await TestServer.run(configure: {
            $0.logHandler = recorder.factory
            $0.logLevel = .trace
        }) { server in
            for cut in ["", "{\"email\": \"someone@exa"] {
                let connection = try await RawConnection.open(port: server.port)
                try await connection.send(
                    "POST /api/rest-auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + cut
                )
                try await Task.sleep(for: .milliseconds(100))
                await connection.close()
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let errors = recorder.records.filter { $0.level >= .error }
        #expect(errors.isEmpty, "\(errors.map { "\($0.message) \($0.metadata)" })")
    }
}
