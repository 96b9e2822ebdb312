import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Testing

/// A short load run with every kind of hostile client beside it, on a server with its rate
/// limits on: the normal users lose nothing and see nothing twice, the abusers are refused, and
/// the run ends by itself.
@Suite("Hostile clients")
struct HostileLoadTests {
    @Test("under a login flood, slow headers, a frame flood and socket churn, every user's message arrives exactly once")
    func usersHoldUnderAttack() async throws {
        let server = try await InProcessServer.start(
            storage: TestBackend.current.freshStorage(), googleKeys: ScenarioTests.root.appendingPathComponent("google")
        ) { configuration in
            configuration.rateLimits = .hostileRun
            // Low enough for a flood of a few seconds to run into it even where one socket's messages
            // are stored slowly (PostgreSQL + Redis in CI: about 17 a second), high enough for the
            // users (10 messages a second among 6 of them).
            configuration.rateLimits.messagesPerUser = RateLimit(perSecond: 5, burst: 10)
            // A flooder's second guess is already throttled, so even a run slowed down by a busy
            // machine (a few guesses each) meets the limit.
            configuration.rateLimits.loginPerAccount = RateLimit(perSecond: 0.1, burst: 1)
        }
        var profile = LoadProfile()
        profile.users = 6
        profile.chats = 2
        profile.groupSize = 3
        profile.rate = 10
        profile.rampUp = 0.5
        profile.duration = 3
        profile.restProbes = 5
        profile.hostile = try HostileProfile(parsing: "login-flood=3,slow-headers=3,frame-flood=1,socket-churn=1")
        profile.hostile.slowHeadersInterval = 0.5

        let report = try await LoadRunner(profile: profile, seed: 11, baseURLs: [server.baseURL]).run()
        await server.stop()

        #expect(report.violations.isEmpty, "\(report.violations.joined(separator: "\n"))")
        #expect(report.messagesSent > 0)
        #expect(report.messagesStored == report.messagesSent)
        #expect(report.deliveries == report.expectedDeliveries)
        #expect(report.probeLatency?.count ?? 0 > 0)
        let hostile = try #require(report.hostile)
        // A bound on a hang, not a speed check: they stop with the sending (3.5 s), not run on.
        #expect(hostile.seconds < profile.rampUp + profile.duration + 30, "the hostile clients stop with the sending: \(hostile.seconds) s")
        let login = try #require(hostile[.loginFlood])
        #expect(login.attempts > 0)
        #expect(login.statuses["429", default: 0] + login.statuses["503", default: 0] > 0, "\(login)")
        #expect(Set(login.statuses.keys).isSubset(of: ["400", "429", "503"]), "\(login)")
        let flood = try #require(hostile[.frameFlood])
        #expect(flood.framesRateLimited > 0, "\(flood)")
        #expect(flood.framesStored > 0, "\(flood)")
        let churn = try #require(hostile[.socketChurn])
        #expect(churn.statuses["101", default: 0] > 0, "\(churn)")
        let slow = try #require(hostile[.slowHeaders])
        #expect(slow.attempts >= 3, "\(slow)")
    }
}
