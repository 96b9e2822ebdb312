import DequeModule
import Logging
import NIOPosix
import Synchronization

/// Publishes frames on Redis in the order they are queued, many per round trip.
///
/// ``publish(channel:payload:)`` only queues: a sender never waits for Redis. Whoever queues into
/// an idle publisher starts a drain on the publisher's own thread, which sends everything queued
/// as one pipeline (PUBLISH, PUBLISH, …, one write, then the replies) until the queue is empty.
/// One connection keeps the order. While Redis is away a batch fails fast and its frames are
/// dropped, counted and logged: their messages are stored, and nodes fill such gaps from the
/// database (``ChatSequencer``).
final class RedisPublisher: Sendable {
    /// Frames waiting beyond this are refused: Redis is far behind or away.
    static let backlogLimit = 100_000
    /// Frames per pipeline: bounds one write and one wait.
    static let pipelineLimit = 1024

    private struct Frame: Sendable {
        let channel: String
        let payload: String
        let queuedAt: ContinuousClock.Instant
    }

    private struct Queue {
        var frames: Deque<Frame> = []
        var draining = false
    }

    private struct Connection {
        var connection: RedisConnectionBox?
        var retryAfter = ContinuousClock.now
        var backoff = Duration.milliseconds(100)
        /// A connection was up once: the next one is a reconnection.
        var wasConnected = false
    }

    private let host: String
    private let port: Int
    private let metrics: RedisMetrics
    private let logger: Logger
    private let queue = Mutex(Queue())
    private let connection = Mutex(Connection())
    /// hiredis blocks: the publisher's calls run on a thread of their own, never on an event loop
    /// nor on the pool that runs SQLite calls and password hashes.
    private let thread = NIOThreadPool(numberOfThreads: 1)

    init(host: String, port: Int, metrics: RedisMetrics, logger: Logger) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.logger = logger
    }

    func start() {
        thread.start()
    }

    func shutdown() async throws {
        try await thread.shutdownGracefully()
    }

    /// Queues a frame for `channel`; throws at once when the backlog is full.
    func publish(channel: String, payload: String) throws {
        let startsDrain = try queue.withLock { queue -> Bool in
            guard queue.frames.count < Self.backlogLimit else { throw RedisError("Redis publishing backlog full") }
            queue.frames.append(Frame(channel: channel, payload: payload, queuedAt: .now))
            guard !queue.draining else { return false }
            queue.draining = true
            return true
        }
        guard startsDrain else { return }
        thread.submit { state in
            guard case .active = state else { return self.abandon() }
            self.drain()
        }
    }

    /// The publisher is not running (before start, after shutdown): what is queued will not be sent.
    private func abandon() {
        let dropped = queue.withLock { queue in
            defer { queue = Queue() }
            return queue.frames.count
        }
        logger.debug("Redis publisher not running; frames dropped", metadata: ["frames": "\(dropped)"])
    }

    /// Runs one command on the publisher's connection, now (a revocation, a readiness PING).
    func command(_ arguments: [String]) async throws {
        try await thread.runIfActive { try self.withConnection { _ = try $0.command(arguments) } }
    }

    /// Sends queued frames until none is left.
    private func drain() {
        while let batch = nextBatch() {
            do {
                let replies = try withConnection { try $0.pipeline(batch.map { ["PUBLISH", $0.channel, $0.payload] }) }
                let now = ContinuousClock.now
                for (frame, reply) in zip(batch, replies) {
                    if case .error(let message) = reply { logger.warning("Redis refused a PUBLISH", metadata: ["error": "\(message)"]) }
                    metrics.publishDuration.record(duration: now - frame.queuedAt)
                }
            } catch {
                logger.warning("publishing on Redis failed; the messages are stored", metadata: ["error": "\(error)", "frames": "\(batch.count)"])
            }
        }
    }

    private func nextBatch() -> [Frame]? {
        queue.withLock { queue in
            guard !queue.frames.isEmpty else {
                queue.draining = false
                return nil
            }
            let count = min(queue.frames.count, Self.pipelineLimit)
            defer { queue.frames.removeFirst(count) }
            return Array(queue.frames.prefix(count))
        }
    }

    /// Runs `body` on the connection, connecting first if needed (not sooner than the backoff
    /// allows); a failed command drops the connection, so the next call reconnects.
    private func withConnection<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        try connection.withLock { state in
            if state.connection == nil {
                guard ContinuousClock.now >= state.retryAfter else { throw RedisError("Redis unavailable; retrying soon") }
                do {
                    state.connection = RedisConnectionBox(try RedisConnection(host: host, port: port, timeout: .milliseconds(500)))
                    state.backoff = .milliseconds(100)
                    metrics.connection(.publisher, isUp: true, reconnected: state.wasConnected)
                    state.wasConnected = true
                } catch {
                    state.retryAfter = ContinuousClock.now + state.backoff
                    state.backoff = min(state.backoff * 2, .seconds(2))
                    throw error
                }
            }
            do {
                return try body(state.connection!.connection)
            } catch {
                state.connection = nil
                metrics.connection(.publisher, isUp: false)
                throw error
            }
        }
    }
}
