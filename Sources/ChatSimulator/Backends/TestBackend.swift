import ChatBackend
import Foundation
import Logging

/// Which storage and channel layer the test suites run the server on, chosen by the environment
/// so that CI runs the same tests on each:
///
/// - `CHAT_TEST_BACKEND=sqlite` (default): a fresh SQLite file per server, in-process channel layer.
/// - `CHAT_TEST_BACKEND=postgres`: a fresh PostgreSQL database per server (created through
///   `CHAT_TEST_POSTGRES_URL`, an administrator's URL such as `postgres://postgres@127.0.0.1:5432/postgres`)
///   and Redis at `CHAT_TEST_REDIS_URL`.
public enum TestBackend: String, Sendable {
    case sqlite
    case postgres

    /// The backend the environment asks for.
    public static var current: TestBackend {
        TestBackend(rawValue: ProcessInfo.processInfo.environment["CHAT_TEST_BACKEND"] ?? "sqlite") ?? .sqlite
    }

    /// A new, empty database for one server (or for several nodes sharing it).
    public func freshDatabase() async throws -> DatabaseLocation {
        switch self {
        case .sqlite:
            return .sqliteFile(FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString).sqlite3").path)
        case .postgres:
            let admin = try Self.environment("CHAT_TEST_POSTGRES_URL")
            guard var components = URLComponents(string: admin) else { throw SimulatorError("bad CHAT_TEST_POSTGRES_URL") }
            // Many tests create their databases at once on a busy machine: a slow first connection
            // is retried (under a new name, in case the timed-out attempt went through after all).
            let created = try await PostgresDatabase(url: admin, logger: Logger(label: "test-admin")).whileRunning { database in
                for attempt in 1...3 {
                    let name = "chat_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
                    do {
                        _ = try await database.query("CREATE DATABASE \(name)")
                        return name
                    } catch is DatabaseUnavailableError where attempt < 3 {
                        continue
                    }
                }
                return ""
            }
            components.path = "/" + created
            return .postgres(components.string ?? admin)
        }
    }

    /// Points a server configuration at this backend's channel layer. Servers of one database
    /// share its Redis channels; servers of other databases (other tests) never hear them.
    public func configureChannelLayer(_ configuration: inout AppConfiguration) throws {
        guard self == .postgres else { return }
        configuration.redisURL = try Self.environment("CHAT_TEST_REDIS_URL")
        if case .postgres(let url) = configuration.database, let name = URLComponents(string: url)?.path.split(separator: "/").last {
            configuration.redisChannelPrefix = String(name)
        }
    }

    private static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw SimulatorError("CHAT_TEST_BACKEND=postgres needs \(name)")
        }
        return value
    }
}
