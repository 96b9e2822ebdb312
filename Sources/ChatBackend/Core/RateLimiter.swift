import Foundation
import Synchronization

/// How often something may happen: `burst` times at once, then `perSecond` on average (a token
/// bucket that holds `burst` tokens and gains `perSecond` a second).
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Reads `"<rate>/s"` or `"<rate>/min"`, optionally `",burst=<n>"` (`"0.1/s,burst=5"`, `"3/min"`);
    /// the burst defaults to the rate per second rounded up, at least 1. Nil when malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let ratePart = parts.first, parts.count <= 2 else { return nil }
        let rate = ratePart.split(separator: "/")
        guard rate.count == 2, let amount = Double(rate[0]), amount > 0, amount.isFinite else { return nil }
        switch rate[1] {
        case "s": perSecond = amount
        case "min": perSecond = amount / 60
        default: return nil
        }
        burst = max(1, Int(perSecond.rounded(.up)))
        if parts.count == 2 {
            guard parts[1].hasPrefix("burst="), let value = Int(parts[1].dropFirst("burst=".count)), value >= 1 else { return nil }
            burst = value
        }
    }

    public var description: String { "\(perSecond)/s,burst=\(burst)" }
}

/// Token buckets by key (an address, an account, a user), for one ``RateLimit``.
///
/// Memory is bounded: past `maximumKeys` buckets, the full ones (keys that have been quiet long
/// enough to be back to their whole burst) are dropped, and if that is not enough, the oldest half.
public final class RateLimiter: Sendable {
    public let limit: RateLimit
    private let maximumKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public init(_ limit: RateLimit, maximumKeys: Int = 100_000) {
        self.limit = limit
        self.maximumKeys = maximumKeys
    }

    /// Takes one token for `key`: nil when the action may go ahead, else how long until it may.
    public func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[key].map { refilled($0, now: now) } ?? Bucket(tokens: Double(limit.burst), updated: now)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return .seconds((1 - bucket.tokens) / limit.perSecond)
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            if buckets.count > maximumKeys { evict(&buckets, now: now) }
            return nil
        }
    }

    /// How many keys have a bucket now.
    var keyCount: Int { buckets.withLock { $0.count } }

    private func refilled(_ bucket: Bucket, now: ContinuousClock.Instant) -> Bucket {
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Bucket(tokens: min(Double(limit.burst), bucket.tokens + seconds * limit.perSecond), updated: now)
    }

    private func evict(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < Double(limit.burst) }
        guard buckets.count > maximumKeys / 2 else { return }
        let oldestFirst = buckets.sorted { $0.value.updated < $1.value.updated }
        for (key, _) in oldestFirst.prefix(buckets.count - maximumKeys / 2) { buckets[key] = nil }
    }
}
