import Foundation
import Logging
import ServiceLifecycle

/// The channel layer across nodes: each message's frame is published on Redis (`chat:<id>`, with
/// the configured prefix); each node subscribes to the chats it has sockets for and hands what it
/// hears to its own hub, in each chat's `seq` order. Every socket, even on the publishing node,
/// gets its frames through Redis, so all see one order.
///
/// hiredis blocks, so the publisher (``RedisPublisher``: queued, pipelined) and the subscriber
/// (``RedisSubscriber``: targeted subscriptions, gaps filled from the database) run on threads of
/// their own: no event loop ever waits on Redis, and a slow Redis never holds the threads that run
/// SQLite calls or password hashes. When Redis goes away, publishing fails fast (messages stay
/// stored) and both sides reconnect by themselves, with a backoff capped at two seconds; once the
/// subscriber is back, each chat is read from the database from where its sockets were.
public final class RedisChannelLayer: ChannelLayer, Service {
    private let prefix: String
    private let hub: ChatHub
    private let pendingFrames = PendingFrames()
    private let publisher: RedisPublisher
    private let subscriber: RedisSubscriber

    /// A layer for `redis://host:port`, filling gaps from `store`.
    public init(
        url: String, channelPrefix: String = "chat", hub: ChatHub, store: ChatStore, metrics: RedisMetrics = .discarded, logger: Logger
    ) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host else {
            throw ConfigurationError("REDIS_URL '\(url)' is not redis://host:port")
        }
        let port = components.port ?? 6379
        self.prefix = channelPrefix + ":"
        self.hub = hub
        self.publisher = RedisPublisher(host: host, port: port, metrics: metrics, logger: logger)
        self.subscriber = try RedisSubscriber(
            host: host, port: port, prefix: prefix, hub: hub, store: store, metrics: metrics, pendingFrames: pendingFrames, logger: logger
        )
    }

    // MARK: Publishing

    public func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
        pendingFrames.add(chatID: chatID, seq: seq, at: .now)
        try publisher.publish(channel: "\(prefix)\(chatID)", payload: RedisSubscriber.sequencedPayload(seq: seq, frame: frames.encoded))
    }

    /// User-socket events travel on `<prefix>events`, heard by every node: they are far fewer
    /// than messages (typing is throttled), and a user's events must reach nodes that follow
    /// none of the user's chats yet.
    public func publish(_ event: UserSocketEvent) async throws {
        try publisher.publish(channel: "\(prefix)events", payload: event.payload)
    }

    /// Revocations travel on `<prefix>revocations`, which no chat id can be.
    public func revoke(_ revocation: TokenRevocation) async throws {
        hub.revoke(revocation)  // This node at once; the others when they hear it.
        try await publisher.command(["PUBLISH", "\(prefix)revocations", revocation.payload])
    }

    /// Whether the publisher reaches Redis now (a PING on its connection, reconnecting if needed).
    public func isReachable() async -> Bool {
        do {
            try await publisher.command(["PING"])
            return true
        } catch {
            return false
        }
    }


    // MARK: Running

    /// Runs the publisher and the subscriber until graceful shutdown.
    public func run() async throws {
        publisher.start()
        subscriber.start()
        try? await gracefulShutdown()
        subscriber.stop()
        try await publisher.shutdown()
    }
}

extension RedisChannelLayer {
    /// Publishes a revocation to every running node from outside a server (the admin commands),
    /// on one short-lived connection, where a node's layer publishes it: `<prefix>:revocations`.
    /// Blocks its thread for at most a couple of seconds.
    public static func publish(_ revocation: TokenRevocation, url: String, channelPrefix: String = "chat") throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host else {
            throw ConfigurationError("REDIS_URL '\(url)' is not redis://host:port")
        }
        let connection = try RedisConnection(host: host, port: components.port ?? 6379, timeout: .seconds(2))
        try connection.command(["PUBLISH", "\(channelPrefix):revocations", revocation.payload])
    }
}

extension TokenRevocation {
    /// The revocation as it travels between nodes.
    var payload: String {
        JSONValue.object([
            ("user", .int(userID)),
            ("tokens", tokenDigests.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("keeping", .string(keeping)),
            ("chat", chatID.map(JSONValue.int) ?? .null),
        ]).serialized
    }

    /// A revocation heard from another node; nil when it is not one.
    init?(payload: String) {
        guard let value = try? JSONValue.parse(Array(payload.utf8)), let userID = value["user"]?.intValue else { return nil }
        var tokens: [String]?
        if case .array(let digests)? = value["tokens"] { tokens = digests.compactMap(\.stringValue) }
        self.init(userID: userID, tokenDigests: tokens, keeping: value["keeping"]?.stringValue, chatID: value["chat"]?.intValue)
    }
}

/// A connection handed between threads; only ever used under the lock that holds it.
/// `@unchecked Sendable` because the hiredis context inside is a raw pointer: every use of it
/// is serialised by the `Mutex` the box lives in (or by the single subscriber thread).
final class RedisConnectionBox: @unchecked Sendable {
    let connection: RedisConnection
    init(_ connection: RedisConnection) { self.connection = connection }
}

extension UserSocketEvent {
    /// The event as it travels between nodes.
    var payload: String {
        var members: [(String, JSONValue)] = [("frame", .string(frame))]
        switch audience {
        case .chat(let chatID, let excluded):
            members.append(("chat", .int(chatID)))
            if let excluded { members.append(("excluding", .int(excluded))) }
        case .users(let userIDs):
            members.append(("users", .array(userIDs.map(JSONValue.int))))
        }
        switch effect {
        case .none:
            break
        case .joined(let chatID, let chatUUID, let position):
            members.append(("joined", .object([("chat", .int(chatID)), ("uuid", .string(chatUUID.text)), ("position", .int(position))])))
        case .left(let chatID):
            members.append(("left", .int(chatID)))
        case .presence(let userID, let node, let online):
            members.append(("presence", .object([("user", .int(userID)), ("node", .string(node)), ("online", .bool(online))])))
        }
        return JSONValue.object(members).serialized
    }

    /// An event heard from another node; nil when it is not one.
    init?(payload: String) {
        guard let value = try? JSONValue.parse(Array(payload.utf8)), let frame = value["frame"]?.stringValue else { return nil }
        let audience: Audience
        if let chatID = value["chat"]?.intValue {
            audience = .chat(chatID, excludingUser: value["excluding"]?.intValue)
        } else if case .array(let users)? = value["users"] {
            audience = .users(users.compactMap(\.intValue))
        } else {
            return nil
        }
        var effect = Effect.none
        if let joined = value["joined"], let chatID = joined["chat"]?.intValue, let uuid = joined["uuid"]?.stringValue.flatMap({ UUID(uuidString: $0) }),
            let position = joined["position"]?.intValue
        {
            effect = .joined(chatID: chatID, chatUUID: uuid, position: position)
        } else if let chatID = value["left"]?.intValue {
            effect = .left(chatID: chatID)
        } else if let presence = value["presence"], let userID = presence["user"]?.intValue, let node = presence["node"]?.stringValue,
            case .bool(let online)? = presence["online"]
        {
            effect = .presence(userID: userID, node: node, online: online)
        }
        self.init(audience: audience, frame: frame, effect: effect)
    }
}
