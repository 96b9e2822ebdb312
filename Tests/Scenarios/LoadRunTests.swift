import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Synchronization
import Testing

/// Load runs end within their drain and say which sockets missed what; a second run with the
/// same seed on the same server works; worker processes deliver everything.
@Suite("Load runs")
struct LoadRunTests {
    static let keys = ScenarioTests.root.appendingPathComponent("google")

    /// A small shape: 6 users in 2 chats of 3, 20 messages a second for 2 s.
    static var small: LoadProfile {
        var profile = LoadProfile()
        profile.users = 6
        profile.chats = 2
        profile.groupSize = 3
        profile.rate = 20
        profile.rampUp = 0.5
        profile.duration = 2
        return profile
    }

    @Test("a server that stops broadcasting some messages: the run ends at its drain deadline and lists every stalled socket with what it missed")
    func stalledSockets() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            // One node with the in-process layer: Redis between nodes would read the dropped
            // broadcasts back from the database.
            configuration.redisURL = nil
            configuration.wrapChannelLayer = { FaultyChannelLayer(wrapping: $0, fault: .drop) }
        }
        var runner = LoadRunner(profile: Self.small, seed: 21, baseURLs: [server.baseURL])
        runner.settleTimeout = .seconds(1)
        let report = try await runner.run()
        await server.stop()

        // One deadline for all six sockets: about 1 s, not a second per stalled socket.
        #expect(report.drain.timedOut)
        #expect(report.drain.seconds < 4, "\(report.drain)")
        #expect(report.deliveries < report.expectedDeliveries)
        // Every 3rd broadcast is dropped: each chat that lost one has all 3 of its sockets listed.
        let stalledChats = Dictionary(grouping: report.socketProblems, by: \.chat)
        #expect(!stalledChats.isEmpty && stalledChats.values.allSatisfy { $0.count == 3 }, "\(report.socketProblems.map(\.line))")
        #expect(report.socketProblems.allSatisfy { $0.state == .stalled && $0.missed > 0 })
        #expect(report.socketProblems.reduce(0) { $0 + $1.missed } == report.expectedDeliveries - report.deliveries)
        #expect(!report.passed)
        #expect(report.summary.contains("stalled"))
        #expect(report.summary.hasSuffix("FAIL"))
    }

    @Test(
        "between nodes, publishes lost, repeated or crossed on the way still reach every socket once, in seq order",
        .enabled(if: TestBackend.current == .postgres, "needs Redis: CHAT_TEST_BACKEND=postgres"),
        arguments: FaultyChannelLayer.Fault.allCases
    )
    func healedBetweenNodes(fault: FaultyChannelLayer.Fault) async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            configuration.wrapChannelLayer = { FaultyChannelLayer(wrapping: $0, fault: fault) }
        }
        var runner = LoadRunner(profile: Self.small, seed: 24, baseURLs: [server.baseURL])
        runner.settleTimeout = .seconds(5)
        let report = try await runner.run()
        await server.stop()

        #expect(report.violations.isEmpty, "\(fault): \(report.violations.prefix(5))")
        #expect(report.deliveries == report.expectedDeliveries, "\(fault)")
        #expect(report.socketProblems.isEmpty, "\(fault): \(report.socketProblems.map(\.line))")
        #expect(report.passed, "\(fault)")
    }

    /// A channel layer as slow as a saturated database: publishing is on the commit path.
    struct SlowChannelLayer: ChannelLayer {
        let base: any ChannelLayer
        func publish(_ event: UserSocketEvent) async throws { try await base.publish(event) }

        func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
            try await Task.sleep(for: .milliseconds(150))
            try await base.publish(chatID: chatID, seq: seq, frames: frames)
        }
        func revoke(_ revocation: TokenRevocation) async throws { try await base.revoke(revocation) }
        func isReachable() async -> Bool { await base.isReachable() }
    }

    @Test("messages the server refuses and says so are nobody's loss: counted as errors, expected by no socket, and the run passes")
    func refusedMessages() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            configuration.connections.socketPendingCommands = 1
            configuration.wrapChannelLayer = { SlowChannelLayer(base: $0) }
        }
        var profile = Self.small
        profile.rate = 40
        let report = try await LoadRunner(profile: profile, seed: 23, baseURLs: [server.baseURL]).run()
        await server.stop()

        let refusals = report.errors.filter { $0.key.contains("not stored") }.values.reduce(0, +)
        #expect(refusals > 0, "the server was made too slow to take every message: \(report.errors)")
        #expect(report.violations.isEmpty, "\(report.violations.prefix(5))")
        #expect(report.socketProblems.isEmpty, "\(report.socketProblems.map(\.line))")
        #expect(report.messagesStored == report.messagesSent, "every accepted message stored")
        #expect(report.deliveries == report.expectedDeliveries)
        #expect(report.passed)
    }

    @Test("sockets the server closes during the run are listed with the close code, and the run fails")
    func closedSockets() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        var profile = Self.small
        profile.duration = 3
        let runner = LoadRunner(profile: profile, seed: 22, baseURLs: [server.baseURL])
        // Once sending has begun, user0 changes their password on another device: the server
        // closes user0's sockets (1008) under the runner.
        let changed = Atomic<Bool>(false)
        let email = "user0.\(runner.runID)@load.example.com"
        let client = ChatClient(baseURL: server.baseURL)
        let report = try await runner.run { _ in
            guard !changed.exchange(true, ordering: .relaxed) else { return }
            Task {
                let other = try await client.logIn(email: email, password: Account.virtualUserPassword)
                _ = try await other.client.request(
                    .POST, "/api/rest-auth/password/change/", json: ["new_password1": "An0ther-pass-2020", "new_password2": "An0ther-pass-2020"]
                )
            }
        }
        await server.stop()

        let closed = report.socketProblems.filter { $0.state == .closed }
        #expect(!closed.isEmpty, "\(report.summary)")
        #expect(closed.allSatisfy { $0.client.hasPrefix("user0") && $0.closeCode == 1008 }, "\(closed.map(\.line))")
        #expect(closed.contains { $0.missed > 0 })
        #expect(!report.drain.timedOut, "a closed socket is not waited for (the drain ends before its 15 s deadline): \(report.drain)")
        #expect(!report.passed)
        #expect(report.summary.contains("closed early"))
    }

    @Test("a second run with the same seed on the same server logs the users in and passes")
    func sameSeedTwice() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        let first = try await LoadRunner(profile: Self.small, seed: 23, baseURLs: [server.baseURL]).run()
        let second = try await LoadRunner(profile: Self.small, seed: 23, baseURLs: [server.baseURL]).run()
        await server.stop()

        for report in [first, second] {
            #expect(report.passed, "\(report.summary)")
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(report.messagesSent > 0)
            #expect(report.deliveries == report.expectedDeliveries)
        }
        #expect(second.messagesSent == first.messagesSent, "the same seed sends the same schedule")
    }

    @Test("a run whose sockets authenticate by the session cookie delivers everything and passes")
    func cookieSockets() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        var profile = Self.small
        profile.socketAuth = .cookie
        let report = try await LoadRunner(profile: profile, seed: 25, baseURLs: [server.baseURL]).run()
        await server.stop()

        #expect(report.passed, "\(report.summary)")
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.messagesSent > 0 && report.deliveries == report.expectedDeliveries)
        #expect(report.profile.socketAuth == .cookie)
    }

    @Test("with two worker processes every message reaches every member once, in one order, and each worker reports its CPU")
    func twoWorkers() async throws {
        let executable = try #require(Self.chatSim, "chat-sim is built next to the tests (swift build builds it)")
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        var profile = Self.small
        profile.workers = 2
        var runner = LoadRunner(profile: profile, seed: 24, baseURLs: [server.baseURL])
        runner.workerCommand = [executable, "load-worker"]
        runner.serverInProcess = true
        let report = try await runner.run()
        await server.stop()

        #expect(report.violations.isEmpty, "\(report.violations.joined(separator: "\n"))")
        #expect(report.passed, "\(report.summary)")
        #expect(report.messagesSent > 0)
        #expect(report.messagesStored == report.messagesSent)
        #expect(report.deliveries == report.expectedDeliveries)
        #expect(report.deliveryLatency.count == UInt64(report.deliveries), "every delivery has a latency on the shared clock")
        #expect(report.deliveryLatency.max < 10_000)
        #expect(report.simulatorCPU.map(\.process) == ["worker 1", "worker 2", "chat-sim (parent)"])
        #expect(report.summary.contains("simulator CPU, worker 2:"))
    }

    /// The small shape on user sockets, half of which drop and resume every 0.7 s.
    static var reconnecting: LoadProfile {
        var profile = Self.small
        profile.users = 8
        profile.chats = 3
        profile.rate = 40
        profile.duration = 3
        profile.socket = .user
        profile.reconnectEvery = 0.7
        profile.reconnectShare = 0.5
        return profile
    }

    @Test("on user sockets that drop and resume mid-run: nothing lost, nothing twice, one order per chat, every send acknowledged once")
    func userSocketsReconnecting() async throws {
        let seed = UInt64.random(in: 1...UInt64(Int64.max))
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys)
        let report = try await LoadRunner(profile: Self.reconnecting, seed: seed, baseURLs: [server.baseURL]).run()
        await server.stop()

        #expect(report.violations.isEmpty, "seed \(seed): \(report.violations.prefix(10).joined(separator: "\n"))")
        #expect(report.passed, "seed \(seed): \(report.summary)")
        #expect(report.messagesSent > 0 && report.messagesStored == report.messagesSent, "seed \(seed)")
        #expect(report.deliveries == report.expectedDeliveries, "seed \(seed): every message once on every member's socket, replays included")
        let users = try #require(report.userSockets)
        #expect(users.reconnects > 0, "seed \(seed): \(users.line)")
        #expect(users.sends == report.messagesSent && users.unacknowledged == 0, "seed \(seed): \(users.line)")
        #expect(users.acks >= users.sends, "seed \(seed): a retry is acknowledged again, with the same ack")
    }

    @Test("on user sockets, a server that loses some of their messages fails the load run, naming the gaps after each resume")
    func userSocketsFaulty() async throws {
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: Self.keys) { configuration in
            configuration.redisURL = nil
            configuration.wrapChannelLayer = { FaultyUserSocketLayer(wrapping: $0, fault: .dropMessages) }
        }
        var runner = LoadRunner(profile: Self.reconnecting, seed: 25, baseURLs: [server.baseURL])
        runner.settleTimeout = .seconds(1)
        let report = try await runner.run()
        await server.stop()

        #expect(!report.passed)
        #expect(report.violations.contains { $0.hasPrefix("[lost]") }, "\(report.violations.prefix(5))")
        #expect(report.violations.contains { $0.hasPrefix("[resume gap]") }, "\(report.violations.prefix(5))")
    }

    /// The `chat-sim` executable the build put beside the test binary, if there is one.
    static var chatSim: String? {
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: binary).deletingLastPathComponent()
        // The test binary may sit inside an .xctest bundle.
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("chat-sim").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }
}
