import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import ServiceLifecycle
import Synchronization

/// The embedded database: one SQLite file (or memory), one writing connection and a few
/// reading ones.
///
/// SQLite has a single writer anyway, so one writing connection behind a FIFO lock is both simple
/// and honest: statements and transactions never interleave. In WAL mode readers see the last
/// commit without waiting for the writer, so `SELECT`s (history pages, chat lists, token checks)
/// run on connections of their own. sqlite-nio runs every call on its thread pool, never on an
/// event loop; each connection has its lock, so no pool thread ever blocks on another's statement.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    private let writer: Locked
    /// Empty for an in-memory database, which other connections cannot see: reads use the writer.
    private let readers: [Locked]
    private let nextReader = Atomic<Int>(0)

    /// Reading connections of a file database: one per core is as many as can run at once.
    static let readerCount = 2

    /// A connection and the lock that keeps its calls one at a time.
    private struct Locked: Sendable {
        let connection: SQLiteConnection
        let mutex = AsyncMutex()
    }

    private init(writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.writer = Locked(connection: writer)
        self.readers = readers.map { Locked(connection: $0) }
    }

    /// Opens (creating if needed) the database at `path`, or an in-memory one when `path` is nil.
    public static func open(path: String?, logger: Logger) async throws -> SQLiteDatabase {
        let storage: SQLiteConnection.Storage = path.map { .file(path: $0) } ?? .memory
        let writer = try await connect(storage, logger: logger)
        // WAL lets readers (ours, and other processes' such as backups) work while we write.
        _ = try await writer.query("PRAGMA journal_mode = WAL")
        _ = try await writer.query("PRAGMA synchronous = NORMAL")
        _ = try await writer.query("PRAGMA foreign_keys = ON")
        _ = try await writer.query("PRAGMA busy_timeout = 5000")
        var readers: [SQLiteConnection] = []
        if path != nil {
            for _ in 0..<readerCount {
                let reader = try await connect(storage, logger: logger)
                _ = try await reader.query("PRAGMA busy_timeout = 5000")
                _ = try await reader.query("PRAGMA query_only = ON")
                readers.append(reader)
            }
        }
        return SQLiteDatabase(writer: writer, readers: readers)
    }

    private static func connect(_ storage: SQLiteConnection.Storage, logger: Logger) async throws -> SQLiteConnection {
        try await SQLiteConnection.open(
            storage: storage,
            threadPool: .singleton,
            logger: logger,
            on: MultiThreadedEventLoopGroup.singleton.any()
        )
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await writer.mutex.withLock {
            try await body(Statements(connection: writer.connection))
        }
    }

    /// The readers take turns; with none (in memory), the writer reads.
    public func withReadConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        guard !readers.isEmpty else { return try await withConnection(body) }
        let reader = readers[nextReader.wrappingAdd(1, ordering: .relaxed).oldValue % readers.count]
        return try await reader.mutex.withLock {
            try await body(Statements(connection: reader.connection))
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await writer.mutex.withLock {
            let statements = Statements(connection: writer.connection)
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
        try await Task.detached {
            for reader in self.readers { try await reader.connection.close() }
            try await self.writer.connection.close()
        }.value
    }

    /// The connection as the store sees it, valid only while the mutex is held.
    private struct Statements: SQLConnection {
        let connection: SQLiteConnection

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let rows: [SQLiteRow]
            do {
                rows = try await connection.query(sql, binds.map(Self.sqliteData))
            } catch let error as SQLiteError where error.isUniqueViolation {
                throw SQLUniqueViolation()
            }
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

extension SQLiteError {
    /// A write that would duplicate a unique value (with or without SQLite's extended codes).
    var isUniqueViolation: Bool {
        reason == .constraintUniqueFailed || (reason == .constraint && message.contains("UNIQUE"))
    }
}
