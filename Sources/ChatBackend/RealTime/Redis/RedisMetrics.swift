import Metrics
import Synchronization

/// What the Redis channel layer reports: whether each of its two connections is up, how often they
/// came back after a loss, and how long a publish takes.
public struct RedisMetrics: Sendable {
    /// The layer's two connections, each a label value of its own.
    enum Role: String {
        case publisher, subscriber
    }

    private let connected: [Role: Gauge]
    private let reconnects: [Role: Counter]
    let publishDuration: Timer

    /// Metrics made by `factory`.
    public init(factory: any MetricsFactory) {
        var connected: [Role: Gauge] = [:]
        var reconnects: [Role: Counter] = [:]
        for role in [Role.publisher, .subscriber] {
            let dimensions = [("connection", role.rawValue)]
            connected[role] = Gauge(label: "chat_redis_connected", dimensions: dimensions, factory: factory)
            reconnects[role] = Counter(label: "chat_redis_reconnects_total", dimensions: dimensions, factory: factory)
            connected[role]?.record(0)
        }
        self.connected = connected
        self.reconnects = reconnects
        publishDuration = Timer(label: "chat_redis_publish_duration_seconds", factory: factory)
    }

    /// Metrics that go nowhere.
    public static var discarded: RedisMetrics { RedisMetrics(factory: NOOPMetricsHandler.instance) }

    /// `role`'s connection is up (1) or down (0); `reconnected` when it came back after a loss.
    func connection(_ role: Role, isUp: Bool, reconnected: Bool = false) {
        connected[role]?.record(isUp ? 1 : 0)
        if reconnected { reconnects[role]?.increment() }
    }
}

/// When this node published the frames still on their way back to it through Redis, so their
/// fan-out is timed from the commit (publishing follows it at once), not from their return.
///
/// Bounded: frames lost with a Redis connection never come back, and must not pile up.
final class PendingFrames: Sendable {
    private struct Position: Hashable {
        let chatID: Int64
        let seq: Int64
    }

    private let published = Mutex<[Position: ContinuousClock.Instant]>([:])
    private let capacity = 4096

    func add(chatID: Int64, seq: Int64, at instant: ContinuousClock.Instant) {
        published.withLock { published in
            if published.count >= capacity { published.removeAll(keepingCapacity: true) }
            published[Position(chatID: chatID, seq: seq)] = instant
        }
    }

    /// When this node published the chat's message `seq`, if it did and it has not come back yet.
    func take(chatID: Int64, seq: Int64) -> ContinuousClock.Instant? {
        published.withLock { $0.removeValue(forKey: Position(chatID: chatID, seq: seq)) }
    }
}
