import ChatBackend
import Synchronization

/// A clock the test sets by hand, so messages can share a time stamp on purpose.
final class ManualClock: Sendable {
    private let current: Mutex<Timestamp>

    init(_ start: Timestamp) {
        current = Mutex(start)
    }

    /// The time now.
    func now() -> Timestamp {
        current.withLock { $0 }
    }

    /// Sets the time.
    func set(_ timestamp: Timestamp) {
        current.withLock { $0 = timestamp }
    }
}
