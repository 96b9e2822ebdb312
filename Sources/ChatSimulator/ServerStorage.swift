import ChatBackend
import Logging

/// Where a server keeps its state, and how its nodes hear each other's broadcasts: servers started
/// on one storage are nodes of one deployment.
public struct ServerStorage: Sendable {
    public var database: DatabaseLocation
    /// Redis between nodes: its URL and the channel prefix of this deployment. Nil: one node, with
    /// the in-process channel layer.
    public var redis: (url: String, channelPrefix: String)?

    public init(database: DatabaseLocation, redis: (url: String, channelPrefix: String)? = nil) {
        self.database = database
        self.redis = redis
    }
}

extension AppConfiguration {
    /// The configuration of a server started by a test or by the simulator: a free port, `storage`,
    /// the lowest bcrypt cost (sign-ups would otherwise dominate a test's time), a quiet log, and
    /// e-mails kept in `outbox` where a test can read them.
    public static func testing(
        storage: ServerStorage, outbox: MemoryMailOutbox = MemoryMailOutbox(), logLevel: Logger.Level = .warning
    ) -> AppConfiguration {
        var configuration = AppConfiguration()
        configuration.port = 0
        configuration.database = storage.database
        if let redis = storage.redis {
            configuration.redisURL = redis.url
            configuration.redisChannelPrefix = redis.channelPrefix
        }
        configuration.accounts.bcryptCost = 4
        // Many virtual users share one address; the rate limits have tests of their own.
        configuration.rateLimits = .off
        configuration.logLevel = logLevel
        configuration.mailOutbox = outbox
        return configuration
    }
}
