import ChatBackend
import Foundation
import Logging

/// The back-end started inside the simulator's process, on a free port, trusting the simulator's
/// fake Google issuer: what `chat-sim` tests when given no `--server` (on a temporary SQLite file),
/// and what scenario tests run against (on the storage of the backend under test).
public final class InProcessServer: Sendable {
    /// `http://127.0.0.1:<port>`
    public let baseURL: String
    /// The fake Google issuer the server trusts, and the client ID it accepts.
    public let google: (issuer: FakeGoogleIssuer, clientID: String)
    private let application: RunningApplication
    /// The temporary SQLite file the server made for itself, removed when it stops.
    private let databasePath: String?
    private let ownsIssuer: Bool

    /// The client ID the in-process server accepts Google tokens for.
    public static let googleClientID = "chat-sim.apps.googleusercontent.com"

    /// Starts the server; `configure` may change the configuration (tests inject faults with it).
    /// `storage`: where to keep state (nodes of one deployment share one); nil: a temporary SQLite file.
    /// `issuer`: a fake Google issuer to trust (nodes of one deployment share one); nil starts one.
    public static func start(
        storage: ServerStorage? = nil, googleKeys: URL, issuer sharedIssuer: FakeGoogleIssuer? = nil, logLevel: Logger.Level = .warning,
        configure: (inout AppConfiguration) -> Void = { _ in }
    ) async throws -> InProcessServer {
        let issuer: FakeGoogleIssuer
        if let sharedIssuer {
            issuer = sharedIssuer
        } else {
            issuer = try await FakeGoogleIssuer.start(keysDirectory: googleKeys)
        }
        let temporaryFile = FileManager.default.temporaryDirectory.appendingPathComponent("chat-sim-\(UUID().uuidString).sqlite3").path
        var configuration = AppConfiguration.testing(storage: storage ?? ServerStorage(database: .sqliteFile(temporaryFile)), logLevel: logLevel)
        configuration.google.clientIDs = [googleClientID]
        configuration.google.jwksURL = issuer.jwksURL
        configuration.google.tokenInfoURL = issuer.tokenInfoURL
        configure(&configuration)
        let application: RunningApplication
        do {
            application = try await RunningApplication.start(configuration, logger: Logger(label: "chat-sim.server"))
        } catch {
            if sharedIssuer == nil { await issuer.stop() }
            throw error
        }
        return InProcessServer(
            baseURL: "http://127.0.0.1:\(application.port)", google: (issuer, googleClientID), application: application,
            databasePath: storage == nil ? temporaryFile : nil, ownsIssuer: sharedIssuer == nil
        )
    }

    private init(
        baseURL: String, google: (issuer: FakeGoogleIssuer, clientID: String), application: RunningApplication,
        databasePath: String?, ownsIssuer: Bool
    ) {
        self.baseURL = baseURL
        self.google = google
        self.application = application
        self.databasePath = databasePath
        self.ownsIssuer = ownsIssuer
    }

    /// Shuts the server down gracefully and removes the database it made for itself.
    public func stop() async {
        try? await application.stop()
        if ownsIssuer { await google.issuer.stop() }
        if let databasePath {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
        }
    }

    /// The `fixtures/google` folder: next to the current directory (the repository), or named by `CHAT_SIM_FIXTURES`.
    public static var defaultGoogleKeys: URL {
        let root = ProcessInfo.processInfo.environment["CHAT_SIM_FIXTURES"] ?? FileManager.default.currentDirectoryPath + "/fixtures"
        return URL(fileURLWithPath: root).appendingPathComponent("google")
    }
}
