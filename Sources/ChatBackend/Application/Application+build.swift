import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the server: the executable and every test run this same application.
///
/// The database and the Redis channel layer run as services beside the HTTP server (started before
/// it, stopped after it, so requests in flight keep both); migrations run before the server starts.
public func buildApplication(_ configuration: AppConfiguration) async throws -> some ApplicationProtocol {
    let logger = makeLogger(configuration)
    let database = InstrumentedDatabase(
        try await openDatabase(configuration.database, logger: logger), metrics: DatabaseMetrics(factory: configuration.metrics)
    )
    let services = try makeServices(configuration, database: database, logger: logger)
    let router = services.router()

    let hostname = configuration.hostname
    var app = Application(
        router: router,
        server: .chatServer(router: router, connections: configuration.connections),
        configuration: .init(address: .hostname(hostname, port: configuration.port), serverName: "chat-server"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.notice("chat-server listening on \(hostname):\(port)")
            await configuration.onListening?(port)
        },
        logger: logger
    )
    app.addServices(database, services.hasher, MemoryTrimmer(hub: services.hub))
    app.addServices(services.backgroundServices)
    app.beforeServerStarts {
        try await Migrations.apply(to: database, logger: logger)
    }
    return app
}

/// The services the application serves with, over a database. Kept apart from `buildApplication`
/// so tests can build the router (and list its routes) without serving.
func makeServices(_ configuration: AppConfiguration, database: any SQLDatabase, logger: Logger) throws -> ChatServices {
    let deliveryMetrics = DeliveryMetrics(factory: configuration.metrics)
    let hub = ChatHub(metrics: deliveryMetrics)
    var backgroundServices: [any Service] = []
    let store = ChatStore(database: database, clock: configuration.clock)
    let channelLayer: any ChannelLayer
    if let redisURL = configuration.redisURL {
        let redis = try RedisChannelLayer(
            url: redisURL, channelPrefix: configuration.redisChannelPrefix, hub: hub, store: store,
            metrics: RedisMetrics(factory: configuration.metrics), logger: logger
        )
        backgroundServices.append(redis)
        channelLayer = redis
    } else {
        channelLayer = LocalChannelLayer(hub: hub)
    }
    return ChatServices(
        store: store,
        authenticator: Authenticator(store: store),
        accounts: configuration.accounts,
        rateLimits: configuration.rateLimits,
        hasher: PasswordHasher(cost: configuration.accounts.bcryptCost),
        outbox: configuration.mailOutbox ?? LogMailOutbox(logger: logger),
        google: configuration.google.clientIDs.isEmpty ? nil : GoogleTokenVerifier(settings: configuration.google),
        webAppGoogle: WebAppController.GoogleSignIn(configuration.google),
        hub: hub,
        channelLayer: configuration.wrapChannelLayer?(channelLayer) ?? channelLayer,
        publicBaseURL: configuration.publicBaseURL,
        socketReauthorizationInterval: configuration.socketReauthorizationInterval,
        messageLimiter: configuration.rateLimits.messagesPerUser.map { RateLimiter($0) },
        backgroundServices: backgroundServices,
        metrics: configuration.metrics,
        metricsToken: configuration.metricsToken,
        deliveryMetrics: deliveryMetrics,
        logger: logger
    )
}

/// Opens the configured database; a pool connects once the database runs (as the application's
/// service, or in ``SQLDatabase/whileRunning(_:)``).
public func openDatabase(_ location: DatabaseLocation, logger: Logger) async throws -> any SQLDatabase {
    switch location {
    case .sqliteFile(let path): try await SQLiteDatabase.open(path: path, logger: logger)
    case .sqliteMemory: try await SQLiteDatabase.open(path: nil, logger: logger)
    case .postgres(let url): try PostgresDatabase(url: url, logger: logger)
    }
}

func makeLogger(_ configuration: AppConfiguration) -> Logger {
    var logger = configuration.logHandler.map { Logger(label: "chat-server", factory: $0) } ?? Logger(label: "chat-server")
    logger.logLevel = configuration.logLevel
    return logger
}

/// Applies the schema's migrations to the configured database and closes it (`chat-server migrate`).
public func migrateDatabase(_ configuration: AppConfiguration) async throws {
    let logger = makeLogger(configuration)
    try await openDatabase(configuration.database, logger: logger).whileRunning { database in
        try await Migrations.apply(to: database, logger: logger)
    }
}

/// Each migration's name and whether the configured database has applied it (`chat-server migrate --status`).
public func migrationStatus(_ configuration: AppConfiguration) async throws -> [(name: String, applied: Bool)] {
    let logger = makeLogger(configuration)
    return try await openDatabase(configuration.database, logger: logger).whileRunning { database in
        try await Migrations.status(of: database)
    }
}
