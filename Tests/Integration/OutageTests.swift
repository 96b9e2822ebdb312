import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import NIOPosix
import Testing

/// Redis stopped and started again, PostgreSQL stopped and started again, while the server runs:
/// nothing is lost, sockets stay open, and the server heals by itself. These stop shared services,
/// so they run alone: CI runs them in a pass of their own with `CHAT_TEST_OUTAGES=1`.
@Suite(
    "Service outages", .serialized,
    .enabled(
        if: TestBackend.current == .postgres && ProcessInfo.processInfo.environment["CHAT_TEST_OUTAGES"] == "1"
            && ProcessInfo.processInfo.environment["CHAT_TEST_SERVICE_CONTROL"] != nil,
        "needs CHAT_TEST_BACKEND=postgres, CHAT_TEST_OUTAGES=1 and CHAT_TEST_SERVICE_CONTROL"
    )
)
struct OutageTests {
    /// Runs `scripts/test-services.sh <service> <action>` and waits for it, on a thread-pool thread.
    /// (posix_spawn and waitpid: Foundation's Process here never noticed its child exit after
    /// redis-server daemonised.)
    static func control(_ service: String, _ action: String) async throws {
        let script = ProcessInfo.processInfo.environment["CHAT_TEST_SERVICE_CONTROL"]!
        let status = try await NIOThreadPool.singleton.runIfActive { () -> Int32 in
            let arguments = [script, service, action]
            var cArguments = arguments.map { strdup($0) } + [nil]
            defer { cArguments.forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, script, nil, nil, &cArguments, environ) == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            return status
        }
        guard status == 0 else { throw TestFailure("\(service) \(action) failed (status \(status))") }
    }

    /// Sends probe messages until one is broadcast to `observer`, or `timeout` passes.
    static func probeUntilLive(from sender: TestSocket, to observer: TestSocket, timeout: Duration) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var n = 0
        while ContinuousClock.now < deadline {
            n += 1
            let probe = "probe \(n)"
            sender.send(["command": "new_message", "message": .string(probe)])
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(50))
                if observer.all.contains(where: { $0["message"]?["content"]?.stringValue == probe }) { return probe }
            }
        }
        return nil
    }

    @Test("Redis down: messages are stored, sockets stay open, live delivery resumes when it is back")
    func redisOutage() async throws {
        try await TestServer.run { server in
            let (_, bob, chat, sender, observer) = try await server.friendsOnSockets()
            _ = try await observer.fetch()
            sender.send(["command": "new_message", "message": "before"])
            #expect(try await observer.next(after: 1)["message"]?["content"] == "before")

            try await Self.control("redis", "stop")
            sender.send(["command": "new_message", "message": "during"])
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await server.get("/api/chat/\(chat)/", token: bob.token).json["lastmessage"] == "during")
            let history = try await observer.fetch()
            #expect(history["messages"]?.arrayValue?.first?["content"] == "during", "stored while Redis was down")

            try await Self.control("redis", "start")
            let live = try await Self.probeUntilLive(from: sender, to: observer, timeout: .seconds(10))
            #expect(live != nil, "live delivery resumed within 10 s")
            let contents = try await observer.fetch()["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
            #expect(contents.contains("before") && contents.contains("during"))
            #expect(observer.all.allSatisfy { $0["command"] != "error" })
            await sender.close()
            await observer.close()
        }
    }

    @Test("PostgreSQL down: 503 and error frames meanwhile, sockets open, healed without a restart")
    func postgresOutage() async throws {
        try await TestServer.run { server in
            let (alice, _, _, sender, observer) = try await server.friendsOnSockets()
            _ = try await observer.fetch()
            sender.send(["command": "new_message", "message": "before"])
            #expect(try await observer.next(after: 1)["message"]?["content"] == "before")

            try await Self.control("postgres", "stop")
            let down = try await server.get("/api/user/currentuser/", token: alice.token)
            #expect(down.status == .serviceUnavailable, "\(down.body)")
            let frames = sender.all.count
            sender.send(["command": "new_message", "message": "lost?"])
            // Up to two database deadlines (10 s each): the socket's periodic authorization check, then the store.
            #expect(try await sender.next(after: frames, timeout: .seconds(30))["command"] == "error")

            try await Self.control("postgres", "start")
            var healed = false
            for _ in 0..<60 where !healed {
                healed = try await server.get("/api/user/currentuser/", token: alice.token).status == .ok
                if !healed { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(healed, "requests succeed again within 15 s")
            #expect(try await Self.probeUntilLive(from: sender, to: observer, timeout: .seconds(10)) != nil)
            let contents = try await observer.fetch()["messages"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
            #expect(contents.contains("before"))
            await sender.close()
            await observer.close()
        }
    }
}
