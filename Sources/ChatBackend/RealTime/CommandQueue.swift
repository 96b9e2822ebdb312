import Synchronization

/// A socket's commands waiting for the store, in arrival order, served in that order.
///
/// The socket's reader only queues here and goes on reading, so the connection's control frames
/// (the client's pong above all) are handled at once however slow the store is. A task serves the
/// queue only while it holds commands: an idle socket keeps none. The queue is bounded: when it is
/// full the reader answers at once that the command was not carried out (``submit(_:)``).
///
/// Commands are served one at a time, except sends: consecutive commands that store a message are
/// served together as a run (at most the queue's capacity), so a burst of sends is stored in one transaction
/// instead of each waiting for the one before it to commit. Whatever comes after a run still
/// waits for the whole run.
final class CommandQueue<Command: SocketCommand>: Sendable {
    private struct State {
        var waiting: [Command] = []
        var serving = false
        var accepting = true
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let serve: @Sendable ([Command]) async -> Void

    /// A queue of at most `capacity` commands waiting, given to `serve` in turn: alone, or as runs
    /// of consecutive sends.
    init(capacity: Int, serve: @escaping @Sendable ([Command]) async -> Void) {
        self.capacity = capacity
        self.serve = serve
    }

    /// Queues a command; false when the queue is full or closed (the command is not carried out).
    func submit(_ command: Command) -> Bool {
        let start = state.withLock { state -> Bool? in
            guard state.accepting, state.waiting.count < capacity else { return nil }
            state.waiting.append(command)
            defer { state.serving = true }
            return !state.serving
        }
        guard let start else { return false }
        if start {
            // Unstructured on purpose: it lives only while commands wait, and finishes the commands
            // in hand even if the socket closes meanwhile (a message is stored whole or not at all).
            Task { await self.serveAll() }
        }
        return true
    }

    /// Whether commands are waiting or being served.
    var isBusy: Bool { state.withLock { $0.serving } }

    /// Takes no more commands and returns those still waiting (not carried out); those in hand finish.
    @discardableResult
    func close() -> [Command] {
        state.withLock { state in
            state.accepting = false
            defer { state.waiting = [] }
            return state.waiting
        }
    }

    private func serveAll() async {
        while let commands = next() {
            await serve(commands)
        }
    }

    /// The next command, or the run it starts.
    private func next() -> [Command]? {
        state.withLock { state in
            guard let first = state.waiting.first else {
                state.serving = false
                return nil
            }
            var count = 1
            if first.storesMessage {
                while count < state.waiting.count, state.waiting[count].storesMessage { count += 1 }
            }
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
    }
}
