import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import ServiceLifecycle

/// The embedded database: one SQLite file (or memory), one connection.
///
/// SQLite has a single writer anyway, so one connection behind a FIFO lock is both simple and
/// honest: statements and transactions never interleave, and sqlite-nio runs every call on its
/// thread pool, never on an event loop.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let mutex = AsyncMutex()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path`, or an in-memory one when `path` is nil.
    public static func open(path: String?, logger: Logger) async throws -> SQLiteDatabase {
        let storage: SQLiteConnection.Storage = path.map { .file(path: $0) } ?? .memory
        let connection = try await SQLiteConnection.open(
            storage: storage,
            threadPool: .singleton,
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any()
        )
        let database = SQLiteDatabase(connection: connection)
        // WAL lets readers of other processes (backups, sqlite3 shell) work while we write.
        _ = try await database.query("PRAGMA journal_mode = WAL")
        _ = try await database.query("PRAGMA synchronous = NORMAL")
        _ = try await database.query("PRAGMA foreign_keys = ON")
        _ = try await database.query("PRAGMA busy_timeout = 5000")
        return database
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await mutex.withLock {
            try await body(Statements(connection: connection))
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await mutex.withLock {
            let statements = Statements(connection: connection)
            return try await statements.inTransaction { try await body(statements) }
        }
    }

    /// One connection behind one lock is exclusive already: the key needs no lock of its own.
    public func withExclusiveConnection<T: Sendable>(lockKey: Int64, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection(body)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        // Detached: the serving task may be cancelled by now, and the close must still happen.
        try await Task.detached { try await self.connection.close() }.value
    }

    /// The connection as the store sees it, valid only while the mutex is held.
    private struct Statements: SQLConnection {
        let connection: SQLiteConnection

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let rows = try await connection.query(sql, binds.map(Self.sqliteData))
            return rows.map { row in
                var values: [String: SQLValue] = [:]
                for column in row.columns {
                    values[column.name] = Self.value(column.data)
                }
                return SQLRow(values)
            }
        }

        private static func sqliteData(_ value: SQLValue) -> SQLiteData {
            switch value {
            case .int(let int): .integer(Int(int))
            case .text(let text): .text(text)
            case .double(let double): .float(double)
            case .null: .null
            }
        }

        private static func value(_ data: SQLiteData) -> SQLValue {
            switch data {
            case .integer(let int): .int(Int64(int))
            case .text(let text): .text(text)
            case .float(let double): .double(double)
            case .blob(let buffer): .text(String(buffer: buffer))
            case .null: .null
            }
        }
    }
}
