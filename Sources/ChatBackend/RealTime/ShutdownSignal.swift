import Synchronization

/// A one-shot signal that the server is shutting down, for one socket session.
///
/// A callback, not something to await: an idle socket keeps no task waiting for the shutdown.
final class ShutdownSignal: Sendable {
    private struct State {
        var fired = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    init() {}

    /// Fires the signal: runs the action, if one is set; later calls do nothing.
    func fire() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            guard !state.fired else { return nil }
            state.fired = true
            defer { state.action = nil }
            return state.action
        }
        action?()
    }

    /// Sets what firing does (at once, if it has fired already); nil forgets it.
    func onFire(_ action: (@Sendable () -> Void)?) {
        let now = state.withLock { state -> Bool in
            guard !state.fired else { return true }
            state.action = action
            return false
        }
        if now { action?() }
    }
}
