import ChatBackend
import Foundation
import Logging
import ServiceLifecycle

/// The back-end started inside the simulator's process, on a temporary SQLite file and a free
/// port, trusting the simulator's fake Google issuer: what `chat-sim` tests when given no `--server`.
public final class InProcessServer: Sendable {
    /// `http://127.0.0.1:<port>`
    public let baseURL: String
    /// The fake Google issuer the server trusts, and the client ID it accepts.
    public let google: (issuer: FakeGoogleIssuer, clientID: String)
    private let services: ServiceGroup
    private let task: Task<Void, any Error>
    private let databasePath: String
    private let ownsIssuer: Bool

    /// The client ID the in-process server accepts Google tokens for.
    public static let googleClientID = "chat-sim.apps.googleusercontent.com"

    /// Starts the server; `configure` may change the configuration (tests inject faults with it).
    /// `issuer`: a fake Google issuer to trust (nodes of one deployment share one); nil starts one.
    public static func start(
        googleKeys: URL, issuer sharedIssuer: FakeGoogleIssuer? = nil, logLevel: Logger.Level = .warning,
        configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> InProcessServer {
        let issuer: FakeGoogleIssuer
        if let sharedIssuer {
            issuer = sharedIssuer
        } else {
            issuer = try await FakeGoogleIssuer.start(keysDirectory: googleKeys)
        }
        let databasePath = FileManager.default.temporaryDirectory.appendingPathComponent("chat-sim-\(UUID().uuidString).sqlite3").path
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var configuration = AppConfiguration()
        configuration.port = 0
        configuration.database = .sqliteFile(databasePath)
        configuration.accounts.bcryptCost = 4
        configuration.rateLimits = .off  // Many virtual users on one address; the limits have tests of their own.
        configuration.logLevel = logLevel
        configuration.mailOutbox = MemoryMailOutbox()
        configuration.google.clientIDs = [googleClientID]
        configuration.google.jwksURL = issuer.jwksURL
        configuration.google.tokenInfoURL = issuer.tokenInfoURL
        configuration.onListening = { portContinuation.yield($0) }
        configure(&configuration)
        let app = try await buildApplication(configuration)
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "chat-sim.server")))
        let task = Task { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw SimulatorError("the in-process server did not start") }
        return InProcessServer(
            baseURL: "http://127.0.0.1:\(port)", google: (issuer, googleClientID), services: services, task: task,
            databasePath: databasePath, ownsIssuer: sharedIssuer == nil
        )
    }

    private init(
        baseURL: String, google: (issuer: FakeGoogleIssuer, clientID: String), services: ServiceGroup, task: Task<Void, any Error>,
        databasePath: String, ownsIssuer: Bool
    ) {
        self.baseURL = baseURL
        self.google = google
        self.services = services
        self.task = task
        self.databasePath = databasePath
        self.ownsIssuer = ownsIssuer
    }

    /// Shuts the server down gracefully and removes its database.
    public func stop() async {
        await services.triggerGracefulShutdown()
        _ = try? await task.value
        if ownsIssuer { await google.issuer.stop() }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
    }

    /// The `fixtures/google` folder: next to the current directory (the repository), or named by `CHAT_SIM_FIXTURES`.
    public static var defaultGoogleKeys: URL {
        let root = ProcessInfo.processInfo.environment["CHAT_SIM_FIXTURES"] ?? FileManager.default.currentDirectoryPath + "/fixtures"
        return URL(fileURLWithPath: root).appendingPathComponent("google")
    }
}
