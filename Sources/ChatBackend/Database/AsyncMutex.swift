import DequeModule
import Synchronization

/// A first-in, first-out lock for async code.
///
/// Actors are re-entrant across `await`, so they cannot keep two multi-statement sequences
/// (a transaction, an insert followed by its publish) from interleaving; this lock can.
public final class AsyncMutex: Sendable {
    private struct State {
        var isLocked = false
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }

    private let state = Mutex(State())

    /// Creates an unlocked mutex.
    public init() {}

    /// Runs `body` while holding the lock.
    public func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                if state.isLocked {
                    state.waiters.append(continuation)
                    return false
                }
                state.isLocked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func unlock() {
        // The lock passes straight to the next waiter, so nobody can overtake the queue.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.isLocked = false
            return nil
        }
        next?.resume()
    }
}
