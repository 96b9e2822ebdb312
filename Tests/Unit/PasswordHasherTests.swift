@testable import ChatBackend
import Foundation
import Testing

@Suite("Password hasher")
struct PasswordHasherTests {
    @Test("beyond its pending bound the hasher refuses at once with 503 and Retry-After")
    func boundedQueue() async throws {
        let hasher = PasswordHasher(cost: 12, maximumPending: 1, threads: 1)
        let service = Task { try await hasher.run() }
        defer { service.cancel() }
        // Only once the pool runs: before, a hash is refused as busy too, and the test would race it.
        try await Self.whenStarted { try await hasher.admitted {} }
        let running = Task { try await hasher.hash("first-password") }
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: APIError.self) { try await hasher.hash("second-password") }
        #expect(error?.status == .serviceUnavailable)
        #expect(error?.headers[.retryAfter] == "1")
        let stored = try await running.value
        #expect(try await hasher.verify("first-password", hash: stored))
    }

    @Test("hashing runs on threads of lower priority, so a flood of log-ins yields the CPU to the chats")
    func lowPriorityThreads() async throws {
        let hasher = PasswordHasher(cost: 4, threads: 1)
        let service = Task { try await hasher.run() }
        defer { service.cancel() }
        // Read on the hashing thread itself: counting the process's nice threads would also
        // count other tests' hashers, which run in parallel.
        let niceness = try await Self.whenStarted { try await hasher.admitted { Self.currentThreadNiceness() } }
        #expect(niceness == Int(PasswordHasher.niceness), "the hashing thread runs at nice \(PasswordHasher.niceness)")
        let hashed = try await hasher.hash("some-password")
        #expect(try await hasher.verify("some-password", hash: hashed))
    }

    /// `work`'s answer once the hasher's pool has started (`run()` starts it on a task of its own).
    private static func whenStarted<T>(_ work: () async throws -> T) async throws -> T {
        for _ in 0..<100 {
            do { return try await work() } catch let error as APIError where error.status == .serviceUnavailable {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return try await work()
    }

    /// The calling thread's niceness (field 19 of /proc/thread-self/stat).
    private static func currentThreadNiceness() -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return nil }
        let fields = stat[afterName.upperBound...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    @Test("rate limits parse as written in the environment")
    func rateLimitText() {
        #expect(RateLimit(parsing: "10/s") == RateLimit(perSecond: 10, burst: 10))
        #expect(RateLimit(parsing: "6/min,burst=5") == RateLimit(perSecond: 0.1, burst: 5))
        #expect(RateLimit(parsing: "0.5/s") == RateLimit(perSecond: 0.5, burst: 1))
        for bad in ["", "10", "10/h", "-1/s", "1/s,burst=0", "1/s,bust=3", "x/s"] {
            #expect(RateLimit(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("a token bucket lets a burst through, then one per interval, per key")
    func tokenBucket() {
        let limiter = RateLimiter(RateLimit(perSecond: 2, burst: 3))
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(limiter.take("a", now: start) == nil) }
        let wait = limiter.take("a", now: start)
        #expect(wait != nil && wait! > .milliseconds(400) && wait! <= .milliseconds(500))
        #expect(limiter.take("b", now: start) == nil, "another key has its own bucket")
        #expect(limiter.take("a", now: start + .milliseconds(500)) == nil, "refilled after 1/rate")
    }

    @Test("the limiter's memory stays bounded however many keys come")
    func boundedKeys() {
        let limiter = RateLimiter(RateLimit(perSecond: 0.001, burst: 2), maximumKeys: 100)
        let now = ContinuousClock.now
        for key in 0..<10_000 { _ = limiter.take("k\(key)", now: now) }
        #expect(limiter.keyCount <= 100)
    }
}
