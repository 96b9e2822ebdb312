import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The channel layer across nodes: each message's frame is published on Redis (`chat:<id>`, with
/// the configured prefix), and every node subscribes to `chat:*` and hands what it hears to its own hub. Every socket, even on
/// the publishing node, gets its frames through Redis, so all see one order.
///
/// hiredis blocks, so publishing runs on a thread pool of the layer's own and the subscriber on a
/// thread of its own: no event loop ever waits on Redis, and a slow Redis never holds the threads
/// that run SQLite calls or password hashes (NIO's shared pool). When Redis goes away, publishing fails fast (messages
/// stay stored; clients catch up with `fetch_messages`) and both sides reconnect by themselves,
/// with a backoff capped at two seconds.
public final class RedisChannelLayer: ChannelLayer, Service {
    private let host: String
    private let port: Int
    private let prefix: String
    private let hub: ChatHub
    private let logger: Logger
    private let metrics: RedisMetrics
    private let pendingFrames = PendingFrames()
    private let publisher = Mutex<PublisherState>(PublisherState())
    private let running = Atomic<Bool>(true)
    private let subscriberConnection = Mutex<RedisConnectionBox?>(nil)
    /// Publishes take the publisher's lock one at a time anyway: one thread is enough. Started and
    /// stopped by ``run()``; a publish before it runs fails like one while Redis is down.
    private let publishingPool = NIOThreadPool(numberOfThreads: 1)

    private struct PublisherState {
        var connection: RedisConnectionBox?
        var retryAfter = ContinuousClock.now
        var backoff = Duration.milliseconds(100)
        /// A connection was up once: the next one is a reconnection.
        var wasConnected = false
    }

    /// A layer for `redis://host:port`.
    public init(url: String, channelPrefix: String = "chat", hub: ChatHub, metrics: RedisMetrics = .discarded, logger: Logger) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host else {
            throw ConfigurationError("REDIS_URL '\(url)' is not redis://host:port")
        }
        self.host = host
        self.port = components.port ?? 6379
        self.prefix = channelPrefix + ":"
        self.hub = hub
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Publishing

    public func publish(chatID: Int64, frame: String) async throws {
        let start = ContinuousClock.now
        pendingFrames.add(frame, at: start)
        try await publishingPool.runIfActive { try self.publishBlocking(channel: "\(self.prefix)\(chatID)", payload: frame) }
        metrics.publishDuration.record(duration: ContinuousClock.now - start)
    }

    /// Revocations travel on `<prefix>revocations`, which no chat id can be.
    public func revoke(_ revocation: TokenRevocation) async throws {
        hub.revoke(revocation)  // This node at once; the others when they hear it.
        let payload = JSONValue.object([
            ("user", .int(revocation.userID)),
            ("tokens", revocation.tokenDigests.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("keeping", .string(revocation.keeping)),
        ]).serialized
        try await publishingPool.runIfActive { try self.publishBlocking(channel: "\(self.prefix)revocations", payload: payload) }
    }

    /// Whether the publisher reaches Redis now (a PING on its connection, reconnecting if needed).
    public func isReachable() async -> Bool {
        do {
            try await publishingPool.runIfActive { try self.withPublisherConnection { _ = try $0.command(["PING"]) } }
            return true
        } catch {
            return false
        }
    }

    /// A published frame comes back through Redis: a few milliseconds on a healthy network.
    public var deliveryDelay: Duration { .milliseconds(250) }

    private func publishBlocking(channel: String, payload: String) throws {
        try withPublisherConnection { _ = try $0.command(["PUBLISH", channel, payload]) }
    }

    /// Runs `body` on the publisher's connection, connecting first if needed (not sooner than the
    /// backoff allows); a failed command drops the connection, so the next call reconnects.
    private func withPublisherConnection(_ body: (RedisConnection) throws -> Void) throws {
        try publisher.withLock { state in
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
                if let connection = state.connection?.connection { try body(connection) }
            } catch {
                state.connection = nil
                metrics.connection(.publisher, isUp: false)
                throw error
            }
        }
    }

    // MARK: Subscribing

    /// Runs the publishing pool and the subscriber until graceful shutdown.
    public func run() async throws {
        publishingPool.start()
        let thread = Thread { self.subscribeLoop() }
        thread.name = "redis-subscriber"
        thread.start()
        try? await gracefulShutdown()
        running.store(false, ordering: .relaxed)
        subscriberConnection.withLock { $0?.connection.interrupt() }
        try await publishingPool.shutdownGracefully()
    }

    private func subscribeLoop() {
        var backoff = Duration.milliseconds(100)
        var wasConnected = false
        while running.load(ordering: .relaxed) {
            do {
                let connection = try RedisConnection(host: host, port: port, timeout: .seconds(1))
                subscriberConnection.withLock { $0 = RedisConnectionBox(connection) }
                try connection.command(["PSUBSCRIBE", "\(prefix)*"])
                logger.info("subscribed to Redis", metadata: ["redis": "\(host):\(port)"])
                metrics.connection(.subscriber, isUp: true, reconnected: wasConnected)
                wasConnected = true
                backoff = .milliseconds(100)
                while running.load(ordering: .relaxed) {
                    deliver(try connection.nextReply())
                }
            } catch {
                subscriberConnection.withLock { $0 = nil }
                metrics.connection(.subscriber, isUp: false)
                guard running.load(ordering: .relaxed) else { break }
                logger.warning("Redis subscriber lost; reconnecting", metadata: ["error": "\(error)", "in": "\(backoff)"])
                Thread.sleep(forTimeInterval: Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        subscriberConnection.withLock { $0 = nil }
        metrics.connection(.subscriber, isUp: false)
    }

    private func deliver(_ reply: RedisReply) {
        // ["pmessage", pattern, "<prefix><id>" or "<prefix>revocations", payload]
        guard case .array(let parts) = reply, parts.count == 4, parts[0] == .string("pmessage"),
            case .string(let channel) = parts[2], case .string(let payload) = parts[3]
        else { return }
        let name = channel.dropFirst(prefix.count)
        if let chatID = Int64(name) {
            hub.deliver(chatID: chatID, frame: payload, committed: pendingFrames.take(payload))
        } else if name == "revocations", let revocation = Self.revocation(payload) {
            hub.revoke(revocation)
        }
    }

    private static func revocation(_ payload: String) -> TokenRevocation? {
        guard let value = try? JSONValue.parse(Array(payload.utf8)), let userID = value["user"]?.intValue else { return nil }
        var tokens: [String]?
        if case .array(let digests)? = value["tokens"] { tokens = digests.compactMap(\.stringValue) }
        return TokenRevocation(userID: userID, tokenDigests: tokens, keeping: value["keeping"]?.stringValue)
    }
}

/// A connection handed between threads; only ever used under the lock that holds it.
/// `@unchecked Sendable` because the hiredis context inside is a raw pointer: every use of it
/// is serialised by the `Mutex` the box lives in (or by the single subscriber thread).
final class RedisConnectionBox: @unchecked Sendable {
    let connection: RedisConnection
    init(_ connection: RedisConnection) { self.connection = connection }
}
