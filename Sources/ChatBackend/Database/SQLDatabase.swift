import ServiceLifecycle

/// A value bound to, or read from, an SQL statement.
///
/// The store only needs these four shapes; dates travel as integer microseconds and
/// UUIDs as lowercase text, so both dialects read and write them the same way.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case double(Double)
    case null
}

/// One row of a query's result, addressed by column name.
public struct SQLRow: Sendable {
    private let values: [String: SQLValue]

    /// Creates a row from its columns.
    public init(_ values: [String: SQLValue]) {
        self.values = values
    }

    /// The integer in `column`; throws if it is missing or not an integer.
    public func int(_ column: String) throws -> Int64 {
        guard case .int(let value) = values[column] else { throw SQLRowError.unexpectedValue(column) }
        return value
    }

    /// The text in `column`; throws if it is missing or not text.
    public func string(_ column: String) throws -> String {
        guard case .text(let value) = values[column] else { throw SQLRowError.unexpectedValue(column) }
        return value
    }

    /// The text in `column`, or nil when it is NULL.
    public func optionalString(_ column: String) throws -> String? {
        switch values[column] {
        case .text(let value): return value
        case .null: return nil
        default: throw SQLRowError.unexpectedValue(column)
        }
    }

    /// The integer in `column`, or nil when it is NULL.
    public func optionalInt(_ column: String) throws -> Int64? {
        switch values[column] {
        case .int(let value): return value
        case .null: return nil
        default: throw SQLRowError.unexpectedValue(column)
        }
    }

    /// The boolean in `column` (stored as 0 or 1).
    public func bool(_ column: String) throws -> Bool {
        try int(column) != 0
    }
}

/// A row did not hold what the store expected: a schema bug, never user input.
public enum SQLRowError: Error, CustomStringConvertible {
    case unexpectedValue(String)

    public var description: String {
        switch self {
        case .unexpectedValue(let column): "unexpected value in column \(column)"
        }
    }
}

/// A connection to run statements on, handed out by an ``SQLDatabase``.
public protocol SQLConnection: Sendable {
    /// Runs one statement with `?` placeholders and returns its rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// A database the store runs on: SQLite embedded, PostgreSQL in production.
///
/// The store writes its SQL once, with `?` placeholders and the few spellings of ``SQLDialect``;
/// an implementation only moves statements to its driver.
public protocol SQLDatabase: Service {
    /// How this database spells the few things that differ between dialects.
    var dialect: SQLDialect { get }

    /// Runs `body` on a connection outside any explicit transaction.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` in a transaction, committed when it returns and rolled back when it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` on a connection for statements that only read. A database with connections
    /// of its own for reading (SQLite in WAL mode) answers them beside the writer, so a read never
    /// waits behind a batch of writes; the others use any connection.
    func withReadConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` on one connection while holding a lock on `lockKey` that every server node
    /// sharing the database respects (migrations run under it, one node at a time). Its statements
    /// are not bounded by the query timeout.
    func withExclusiveConnection<T: Sendable>(lockKey: Int64, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Keeps the database working (a connection pool needs a running task) until graceful shutdown
    /// or cancellation, then closes it: the application runs it as a service, and work outside a
    /// server uses ``whileRunning(_:)``.
    func run() async throws
}

extension SQLConnection {
    /// Runs `body` in a transaction on this connection: committed when it returns, rolled back when it throws.
    public func inTransaction<T>(_ body: () async throws -> T) async throws -> T {
        _ = try await query("BEGIN", [])
        do {
            let result = try await body()
            _ = try await query("COMMIT", [])
            return result
        } catch {
            _ = try? await query("ROLLBACK", [])
            throw error
        }
    }
}

extension SQLDatabase {
    /// Runs `body` while the database runs, then closes it: for work outside a server (the
    /// `migrate` command, tests).
    public func whileRunning<T: Sendable>(_ body: @escaping @Sendable (Self) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }

    /// Runs one statement on a connection of its own.
    public func query(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await withConnection { try await $0.query(sql, binds) }
    }

    /// Runs one statement that only reads (a `SELECT`) on a reading connection.
    public func read(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await withReadConnection { try await $0.query(sql, binds) }
    }

    /// Any connection will do for reading, unless the database says otherwise.
    public func withReadConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection(body)
    }
}

/// The spellings that differ between SQLite and PostgreSQL, kept in one place.
public struct SQLDialect: Sendable {
    /// Column definition of an auto-incremented integer primary key.
    public var autoIncrementPrimaryKey: String
    /// Operator for a case-insensitive `LIKE`.
    public var caseInsensitiveLike: String
    /// The function giving the larger of two values.
    public var greatest: String
    /// Whether `SELECT … FOR UPDATE` locks rows: several nodes write at once (PostgreSQL), where
    /// SQLite's one writer needs no row locks.
    public var locksRowsForUpdate: Bool
    /// The database's own full-text index, which message search uses.
    public var fullTextIndex: FullTextIndex

    /// The two full-text indexes the store knows how to build and query.
    public enum FullTextIndex: Sendable {
        /// SQLite's FTS5: a virtual table kept in sync by triggers, ranked by `bm25`.
        case fts5
        /// PostgreSQL's `tsvector` with a GIN index, ranked by `ts_rank`.
        case tsvector
    }

    /// SQLite: `LIKE` is already case-insensitive for ASCII; two-argument `MAX` is scalar.
    public static let sqlite = SQLDialect(
        autoIncrementPrimaryKey: "INTEGER PRIMARY KEY AUTOINCREMENT",
        caseInsensitiveLike: "LIKE",
        greatest: "MAX",
        locksRowsForUpdate: false,
        fullTextIndex: .fts5
    )

    /// PostgreSQL.
    public static let postgres = SQLDialect(
        autoIncrementPrimaryKey: "BIGSERIAL PRIMARY KEY",
        caseInsensitiveLike: "ILIKE",
        greatest: "GREATEST",
        locksRowsForUpdate: true,
        fullTextIndex: .tsvector
    )
}

/// A write the database refused because it would duplicate a unique value (a race the store's
/// own checks lost): the store turns it into the matching conflict.
public struct SQLUniqueViolation: Error {
    public init() {}
}

/// The database cannot be reached right now; requests answer 503 and the server keeps running.
public struct DatabaseUnavailableError: Error, CustomStringConvertible {
    /// What went wrong, for the log.
    public var reason: String

    public var description: String { "database unavailable: \(reason)" }
}
