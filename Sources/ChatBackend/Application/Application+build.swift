import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// Builds the server: the executable and every test run this same application.
public func buildApplication(_ configuration: AppConfiguration) async throws -> some ApplicationProtocol {
    let logger = {
        var logger = Logger(label: "chat-server")
        logger.logLevel = configuration.logLevel
        return logger
    }()

    let database = try await openDatabase(configuration.database, logger: logger)
    try await Migrations.apply(to: database, logger: logger)
    let services = try makeServices(configuration, database: database, logger: logger)

    let hostname = configuration.hostname
    return Application(
        router: services.httpRouter(),
        server: .chatServer(webSocket: .init(maxFrameSize: Limits.socketFrameBytes), acceptSocket: services.acceptSocket),
        configuration: .init(address: .hostname(hostname, port: configuration.port), serverName: "chat-server"),
        // Started in order and stopped in reverse, after the server: requests in flight keep both.
        services: [DatabaseService(database: database, logger: logger)] + services.backgroundServices,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            logger.notice("chat-server listening on \(hostname):\(port)")
            await configuration.onListening?(port)
        },
        logger: logger
    )
}

/// The services the application serves with, over an open database. Kept apart from
/// `buildApplication` so tests can build the HTTP router (and list its routes) without serving.
func makeServices(_ configuration: AppConfiguration, database: any SQLDatabase, logger: Logger) throws -> ChatServices {
    let hub = ChatHub()
    var backgroundServices: [any Service] = []
    let channelLayer: any ChannelLayer
    if let redisURL = configuration.redisURL {
        let redis = try RedisChannelLayer(url: redisURL, channelPrefix: configuration.redisChannelPrefix, hub: hub, logger: logger)
        backgroundServices.append(redis)
        channelLayer = redis
    } else {
        channelLayer = LocalChannelLayer(hub: hub)
    }
    return ChatServices(
        store: ChatStore(database: database, clock: configuration.clock),
        accounts: configuration.accounts,
        hasher: PasswordHasher(cost: configuration.accounts.bcryptCost),
        outbox: configuration.mailOutbox ?? LogMailOutbox(logger: logger),
        google: configuration.google.clientIDs.isEmpty ? nil : GoogleTokenVerifier(settings: configuration.google),
        hub: hub,
        channelLayer: configuration.wrapChannelLayer?(channelLayer) ?? channelLayer,
        publicBaseURL: configuration.publicBaseURL,
        socketReauthorizationInterval: configuration.socketReauthorizationInterval,
        backgroundServices: backgroundServices
    )
}

private func openDatabase(_ location: DatabaseLocation, logger: Logger) async throws -> any SQLDatabase {
    switch location {
    case .sqliteFile(let path): try await SQLiteDatabase.open(path: path, logger: logger)
    case .sqliteMemory: try await SQLiteDatabase.open(path: nil, logger: logger)
    case .postgres(let url): try PostgresDatabase(url: url, logger: logger)
    }
}

/// Keeps the database serving while the server runs, and closes it once the server has stopped
/// (services stop in reverse order, so in-flight requests still have their database).
private struct DatabaseService: Service {
    let database: any SQLDatabase
    let logger: Logger

    func run() async throws {
        try await database.serve()
        logger.info("database closed")
    }
}

/// Applies the schema's migrations to the configured database and closes it (`chat-server migrate`).
public func migrateDatabase(_ configuration: AppConfiguration) async throws {
    var logger = Logger(label: "chat-server")
    logger.logLevel = configuration.logLevel
    let database = try await openDatabase(configuration.database, logger: logger)
    do {
        try await Migrations.apply(to: database, logger: logger)
    } catch {
        try? await database.close()
        throw error
    }
    try await database.close()
}
