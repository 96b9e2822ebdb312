import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization

/// A command a socket session queues for the store, and what it answers when it cannot be
/// carried out.
protocol SocketCommand: Sendable {
    /// The answer when the queue is full: what the client should do (and which message was not stored).
    var refusal: String { get }
    /// The answer when the server shuts down before carrying it out.
    var shutdownRefusal: String { get }
    /// Whether it stores a message: consecutive ones are stored together (``CommandQueue``).
    var storesMessage: Bool { get }
}

/// Closes a socket from the server's side, once, whoever decides first: answers the commands still
/// waiting (not carried out), writes the queue (or drops it, for a client too far behind), then the
/// close frame, and ends the connection after the close timeout if the client has not by then.
final class Closer<Command: SocketCommand>: Sendable {
    let outbox: SocketOutbox
    let outbound: WebSocketOutboundWriter
    let state: SessionState
    let connection: SocketConnection
    let logger: Logger
    /// Set once, right after the queue is made (the queue's server needs this closer).
    let commands = Mutex<CommandQueue<Command>?>(nil)

    init(outbox: SocketOutbox, outbound: WebSocketOutboundWriter, state: SessionState, connection: SocketConnection, logger: Logger) {
        self.outbox = outbox
        self.outbound = outbound
        self.state = state
        self.connection = connection
        self.logger = logger
    }

    func close(_ code: WebSocketErrorCode, _ reason: String, dropQueued: Bool) {
        guard state.startClosing() else { return }
        logger.debug("closing a socket", metadata: ["reason": "\(reason)"])
        let waiting = commands.withLock { $0 }?.close() ?? []
        if !dropQueued {
            for command in waiting { outbox.offer(command.refusal) }
        }
        let (outbound, wire, closeTimeout) = (self.outbound, connection.wire, connection.closeTimeout)
        outbox.close(dropQueued: dropQueued) {
            // After the frames written before it. WSCore's writer may hold the close frame until
            // the client reads again; the connection ends at the close timeout whatever happens.
            Task { try? await outbound.close(code, reason: reason) }
            wire.closeConnection(after: closeTimeout)
        }
    }
}

/// Where a socket is in its life, shared by its reader, its command queue's server, its closer
/// and its shutdown drain; and when its token was last checked.
final class SessionState: Sendable {
    enum Phase: Equatable {
        case open
        /// The server is shutting down: frames are refused, the commands accepted finish.
        case draining
        /// The server is closing the socket: nothing more is carried out.
        case closing
    }

    private struct Fields {
        var phase = Phase.open
        var authorizedAt = ContinuousClock.now
        var newestStoredSeq: Int64 = 0
    }

    private let fields = Mutex(Fields())

    var phase: Phase { fields.withLock { $0.phase } }

    /// False if the socket is already draining or closing.
    func startDraining() -> Bool {
        fields.withLock {
            guard $0.phase == .open else { return false }
            $0.phase = .draining
            return true
        }
    }

    /// False if the socket is already closing.
    func startClosing() -> Bool {
        fields.withLock {
            guard $0.phase != .closing else { return false }
            $0.phase = .closing
            return true
        }
    }

    /// Whether the socket may go on carrying out commands: once `interval` has passed since the
    /// last check, `check` decides again (a token or a membership may have been revoked elsewhere).
    func isAuthorized(every interval: Duration, check: () async -> Bool) async -> Bool {
        guard fields.withLock({ ContinuousClock.now - $0.authorizedAt >= interval }) else { return true }
        guard await check() else { return false }
        fields.withLock { $0.authorizedAt = .now }
        return true
    }

    /// The `seq` of the newest message this socket stored (0: none).
    var newestStoredSeq: Int64 { fields.withLock { $0.newestStoredSeq } }

    func stored(seq: Int64) {
        fields.withLock { $0.newestStoredSeq = max($0.newestStoredSeq, seq) }
    }
}

/// At shutdown: refuse new frames, let the command in hand finish and its broadcasts come back,
/// then write the queue and close with 1001.
func drainSocket<Command: SocketCommand>(
    commands: CommandQueue<Command>, state: SessionState, closer: Closer<Command>, delivered: @Sendable (Int64) -> Bool
) async {
    guard state.startDraining() else { return }
    // Commands still waiting are refused, not carried out (the client sends them again once
    // reconnected): only the one in hand finishes, so the drain does not last as long as the
    // whole queue takes to store.
    for command in commands.close() { closer.outbox.offer(command.shutdownRefusal) }
    let deadline = ContinuousClock.now + Limits.shutdownDrain
    while commands.isBusy, ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(5))
    }
    // The sender's own messages come back through the channel layer (through Redis, across
    // nodes): wait until the newest it stored has been handed to the chat's sockets here.
    while !delivered(state.newestStoredSeq), ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(5))
    }
    closer.close(.goingAway, "server shutting down", dropQueued: false)
}

