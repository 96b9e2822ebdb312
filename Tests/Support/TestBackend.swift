import ChatBackend
import ChatSimulator
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

    /// New, empty storage for one server (or for several nodes sharing it).
    public func freshStorage() async throws -> ServerStorage {
        try storage(of: try await freshDatabase())
    }

    /// The storage of an existing database: it, and (on PostgreSQL) Redis channels of its own.
    /// Servers of one database share their channels; servers of other databases (other tests)
    /// never hear them.
    public func storage(of database: DatabaseLocation) throws -> ServerStorage {
        guard self == .postgres, case .postgres(let url) = database, let name = URLComponents(string: url)?.path.split(separator: "/").last else {
            return ServerStorage(database: database)
        }
        return ServerStorage(database: database, redis: (try Self.environment("CHAT_TEST_REDIS_URL"), String(name)))
    }

    /// A new, empty database.
    public func freshDatabase() async throws -> DatabaseLocation {
        switch self {
        case .sqlite:
            return .sqliteFile(FileManager.default.temporaryDirectory.appendingPathComponent("chat-test-\(UUID().uuidString).sqlite3").path)
        case .postgres:
            let admin = try Self.environment("CHAT_TEST_POSTGRES_URL")
            guard var components = URLComponents(string: admin) else { throw TestBackendError("bad CHAT_TEST_POSTGRES_URL") }
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

    /// Removes a database made by ``freshDatabase()`` once its servers have stopped: hundreds of
    /// leftover databases slow PostgreSQL's autovacuum, and so every later test, down.
    /// Best effort: a database that cannot be dropped now is left for the services' reset.
    public func dropDatabase(_ location: DatabaseLocation) async {
        switch location {
        case .sqliteFile(let path):
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        case .postgres(let url):
            guard let admin = try? Self.environment("CHAT_TEST_POSTGRES_URL"),
                let name = URLComponents(string: url)?.path.split(separator: "/").last, name.hasPrefix("chat_test_")
            else { return }
            _ = try? await PostgresDatabase(url: admin, logger: Logger(label: "test-admin")).whileRunning { database in
                try await database.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            }
        default:
            return
        }
    }

    private static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestBackendError("CHAT_TEST_BACKEND=postgres needs \(name)")
        }
        return value
    }
}

/// A test backend that cannot be set up, said plainly.
public struct TestBackendError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
