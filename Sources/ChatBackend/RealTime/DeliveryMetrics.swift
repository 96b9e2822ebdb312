import Metrics
import Synchronization

/// What live delivery reports: the sockets open on this node, the messages stored, and how long a
/// message takes from its commit to the last socket it is written to.
public struct DeliveryMetrics: Sendable {
    let openSockets: Meter
    /// A counter, so a rate per second is Prometheus's `rate()` of it.
    let messagesStored: Counter
    let fanOutDuration: Timer

    /// Metrics made by `factory`.
    public init(factory: any MetricsFactory) {
        openSockets = Meter(label: "chat_sockets_open", factory: factory)
        messagesStored = Counter(label: "chat_messages_stored_total", factory: factory)
        fanOutDuration = Timer(label: "chat_fanout_duration_seconds", factory: factory)
        openSockets.set(0)
    }

    /// Metrics that go nowhere (a hub built outside a server).
    public static var discarded: DeliveryMetrics { DeliveryMetrics(factory: NOOPMetricsHandler.instance) }
}

/// One frame on its way to the sockets of a chat: records the fan-out's duration when the last of
/// them has written it (or dropped it, its queue being full).
///
/// A socket that closes with the frame still queued never counts down, so its fan-out is not
/// recorded: it never finished.
final class FanOut: Sendable {
    private let start: ContinuousClock.Instant
    private let remaining: Atomic<Int>
    private let duration: Timer

    /// A fan-out to `sockets` sockets (at least one) that started at `start`.
    init(sockets: Int, since start: ContinuousClock.Instant, duration: Timer) {
        self.start = start
        self.remaining = Atomic(sockets)
        self.duration = duration
    }

    /// One socket is done with the frame.
    func done() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            duration.record(duration: ContinuousClock.now - start)
        }
    }
}

/// A frame in a socket's outbound queue, with the fan-out it belongs to (none for a socket's own answers).
struct OutboundFrame: Sendable {
    let text: String
    let fanOut: FanOut?
}

extension AsyncStream<OutboundFrame>.Continuation {
    /// Queues an answer to this socket alone.
    @discardableResult
    func yield(_ text: String) -> YieldResult {
        yield(OutboundFrame(text: text, fanOut: nil))
    }
}
