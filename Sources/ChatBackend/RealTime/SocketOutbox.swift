import NIOWebSocket
import Synchronization

/// How a socket's frames reach the connection; the HTTP floor implements it over the NIO channel.
///
/// Writes go straight onto the connection, without a task per socket: an idle socket then costs
/// no writer task, and a burst of frames is written with one flush.
protocol SocketWire: Sendable {
    /// Runs `body` soon on the connection's own thread, after everything scheduled before it.
    func schedule(_ body: @escaping @Sendable () -> Void)

    /// Writes `texts` as text frames, in order, with one flush; only on the connection's own
    /// thread (in a ``schedule(_:)`` body). `written` runs once they are all handed to the system
    /// (true), or the connection failed first (false).
    func write(_ texts: [String], written: @escaping @Sendable (Bool) -> Void)

    /// Ends the connection outright after `delay`, whatever the client does: the bound on a
    /// closing handshake that the client never reads or never answers.
    func closeConnection(after delay: Duration)
}

/// One socket's outbound frames: a bounded queue, written in batches straight onto the wire.
///
/// The bound counts the frames queued and those written but not yet taken by the system: a
/// client that reads too slowly fills it, and the socket is then cut off (``ChatHub`` closes it
/// with 1008) rather than left hanging or slowing its chat down.
final class SocketOutbox: Sendable {
    /// What became of a frame offered to the outbox.
    enum Offer {
        case queued
        /// The queue is full: the client reads too slowly.
        case full
        /// The socket is closing: nothing more is sent.
        case closed
    }

    private struct State {
        var queued: [OutboundFrame] = []
        /// Frames handed to the wire whose write has not completed.
        var inFlight = 0
        var flushScheduled = false
        /// Set once the socket closes: the close frame follows the frames still queued.
        var closing: (() -> Void)?
        var closed = false
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let wire: any SocketWire

    /// An outbox of at most `capacity` frames in waiting, onto `wire`.
    init(capacity: Int, wire: any SocketWire) {
        self.capacity = capacity
        self.wire = wire
    }

    /// Queues a frame; it is written with whatever else is queued by then, in one flush.
    @discardableResult
    func offer(_ frame: OutboundFrame) -> Offer {
        let (offer, schedule) = state.withLock { state -> (Offer, Bool) in
            guard !state.closed else { return (.closed, false) }
            guard state.queued.count + state.inFlight < capacity else { return (.full, false) }
            state.queued.append(frame)
            defer { state.flushScheduled = true }
            return (.queued, !state.flushScheduled)
        }
        if schedule { wire.schedule { self.flush() } }
        return offer
    }

    /// Queues an answer to this socket alone.
    @discardableResult
    func offer(_ text: String) -> Offer {
        offer(OutboundFrame(text: text, fanOut: nil))
    }

    /// Takes no more frames; those queued are written (unless `dropQueued`, when the client is too
    /// far behind to catch up), and then `close` runs, on the connection's thread.
    func close(dropQueued: Bool, then close: @escaping @Sendable () -> Void) {
        let (dropped, schedule) = state.withLock { state -> ([OutboundFrame], Bool) in
            guard !state.closed else { return ([], false) }
            state.closed = true
            state.closing = close
            let dropped = dropQueued ? state.queued : []
            if dropQueued { state.queued = [] }
            defer { state.flushScheduled = true }
            return (dropped, !state.flushScheduled)
        }
        for frame in dropped { frame.fanOut?.done() }
        if schedule { wire.schedule { self.flush() } }
    }

    /// On the connection's thread: writes every frame queued so far with one flush, then closes if asked.
    private func flush() {
        let (frames, closing) = state.withLock { state -> ([OutboundFrame], (() -> Void)?) in
            let frames = state.queued
            state.queued = []
            state.inFlight += frames.count
            state.flushScheduled = false
            defer { state.closing = nil }
            return (frames, state.closing)
        }
        if !frames.isEmpty {
            wire.write(frames.map(\.text)) { _ in
                self.state.withLock { $0.inFlight -= frames.count }
                for frame in frames { frame.fanOut?.done() }
            }
        }
        closing?()
    }
}
