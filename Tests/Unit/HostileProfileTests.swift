@testable import ChatSimulator
import Foundation
import Testing

/// `--hostile` and the profile file's `hostile:` map are read strictly and bounded; the report
/// says what the hostile clients got, and the baseline comparison fails a run whose p99 grew
/// beyond its factor.
@Suite("Hostile profile")
struct HostileProfileTests {
    @Test("kind=N items set each kind; bare kinds get their default count")
    func parsing() throws {
        let profile = try HostileProfile(parsing: "login-flood=60, slow-headers=200,frame-flood=1,socket-churn=5")
        #expect(profile.loginFlood == 60)
        #expect(profile.slowHeaders == 200)
        #expect(profile.frameFlood == 1)
        #expect(profile.socketChurn == 5)
        #expect(profile.spec == "login-flood=60,slow-headers=200,frame-flood=1,socket-churn=5")

        let bare = try HostileProfile(parsing: "login-flood,socket-churn")
        #expect(bare.loginFlood == HostileProfile.Kind.loginFlood.defaultCount)
        #expect(bare.socketChurn == HostileProfile.Kind.socketChurn.defaultCount)
        #expect(bare.slowHeaders == 0)
        #expect(bare.activeKinds == [.loginFlood, .socketChurn])

        #expect(try HostileProfile(parsing: "").isEmpty)
        #expect(HostileProfile().spec == "none")
    }

    @Test("unknown kinds, counts that are not whole numbers and counts out of bounds are refused", arguments: [
        ("login-floods=3", "unknown hostile client 'login-floods'"),
        ("login-flood=many", "the count must be a whole number"),
        ("slow-headers=-1", "slow-headers must be between 0 and 5000"),
        ("frame-flood=101", "frame-flood must be between 0 and 100"),
        ("login-flood=1001", "login-flood must be between 0 and 1000"),
    ])
    func refused(text: String, reason: String) {
        #expect {
            _ = try HostileProfile(parsing: text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test("the profile file's hostile map is read, keys left out keep their defaults, and it is validated")
    func profileFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "users: 6\nrestProbes: 4\nhostile:\n  loginFlood: 12\n  slowHeaders: 30\n  slowHeadersInterval: 0.5\n".write(to: file, atomically: true, encoding: .utf8)
        let profile = try LoadProfile.load(path: file.path)
        #expect(profile.users == 6)
        #expect(profile.restProbes == 4)
        #expect(profile.hostile.loginFlood == 12)
        #expect(profile.hostile.slowHeaders == 30)
        #expect(profile.hostile.slowHeadersInterval == 0.5)
        #expect(profile.hostile.frameFlood == 0)
        try profile.validate()

        var tooMany = profile
        tooMany.hostile.socketChurn = 1000
        #expect(throws: SimulatorError.self) { try tooMany.validate() }
    }

    @Test("each kind's line shows its answers by status, its frames, and the connections the server closed")
    func outcomeLines() {
        var login = HostileOutcome()
        login.clients = 60
        login.attempts = 1200
        login.statuses = ["503": 100, "400": 300, "429": 800]
        var flood = HostileOutcome()
        flood.clients = 1
        flood.attempts = 5000
        flood.framesStored = 400
        flood.framesRateLimited = 4600
        flood.closedByServer = 1
        var profile = HostileProfile()
        profile.loginFlood = 60
        profile.frameFlood = 1
        let report = HostileReport(profile: profile, seconds: 10, outcomes: ["login-flood": login, "frame-flood": flood])
        #expect(report.lines == [
            "hostile login-flood: 60 clients, 1200 attempts (120.0/s); answers 400 ×300, 429 ×800, 503 ×100; closed by server 0; errors none",
            "hostile frame-flood: 1 clients, 5000 attempts (500.0/s); answers none; frames stored 400, rate_limited 4600; closed by server 1; errors none",
        ])
        #expect(report[.slowHeaders] == nil)
    }

    @Test("with a baseline, a p99 beyond the factor fails the run, and the report says both figures")
    func baselineComparison() throws {
        let calm = Self.report(p99Milliseconds: 2)
        var attacked = Self.report(p99Milliseconds: 30)
        attacked.compare(with: Baseline(calm, p99Factor: 10))
        #expect(!attacked.passed)
        #expect(attacked.thresholdFailures.count == 1)
        #expect(attacked.thresholdFailures.first?.contains("p99 latency with hostile clients 30.0") == true)
        #expect(attacked.summary.contains("baseline without hostile clients: delivery p50"))

        var tolerable = Self.report(p99Milliseconds: 15)
        tolerable.compare(with: Baseline(calm, p99Factor: 10))
        #expect(tolerable.passed)

        var brokenCalm = calm
        brokenCalm.violations = ["[lost] …"]
        var afterBroken = Self.report(p99Milliseconds: 2)
        afterBroken.compare(with: Baseline(brokenCalm, p99Factor: 10))
        #expect(afterBroken.thresholdFailures == ["baseline run without hostile clients: 1 violation(s)"])

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(attacked)) as? [String: Any]
        #expect((json?["baseline"] as? [String: Any])?["p99Factor"] as? Double == 10)
    }

    /// A report whose every delivery took `p99Milliseconds`.
    private static func report(p99Milliseconds: Int) -> LoadReport {
        var latency = LatencyHistogram()
        for _ in 0..<100 { latency.record(.milliseconds(p99Milliseconds)) }
        return LoadReport(
            profile: LoadProfile(), seed: 1, server: "http://127.0.0.1:1", secondsSending: 10, messagesSent: 100, messagesStored: 100,
            deliveries: 300, expectedDeliveries: 300, messagesPerSecond: 10, deliveriesPerSecond: 30,
            deliveryLatency: latency.summary, connectLatency: latency.summary, restLatency: latency.summary,
            errors: [:], violations: [], thresholdFailures: []
        )
    }
}
