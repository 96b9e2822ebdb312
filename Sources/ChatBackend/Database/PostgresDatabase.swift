import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The production database: PostgreSQL through postgres-nio's pooled, non-blocking client.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let pool: Task<Void, Never>
    private let logger: Logger

    /// Connects to `postgres://user:password@host:port/database` (the pool connects lazily and
    /// reconnects by itself after a restart of PostgreSQL).
    public init(url: String, logger: Logger) throws {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw ConfigurationError("DATABASE_URL '\(url)' is not postgres://user:password@host:port/database")
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: components.path.split(separator: "/").first.map(String.init),
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 20
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        // The pool must run before the first query (migrations come before the server starts).
        let client = self.client
        self.pool = Task { await client.run() }
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await Self.translatingErrors {
            try await Self.withDeadline(Self.operationTimeout) { [client, logger] in
                try await client.withConnection { connection in try await body(Statements(connection: connection, logger: logger)) }
            }
        }
    }

    /// While PostgreSQL is down the pool keeps asking for a connection; past this a request
    /// answers 503 instead of waiting. Generous enough for a first connection on a busy machine.
    static let operationTimeout = Duration.seconds(10)

    /// Runs `body`, or throws ``DatabaseUnavailableError`` (and cancels it) after `timeout`.
    private static func withDeadline<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DatabaseUnavailableError(reason: "no database connection within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw CancellationError() }
            return result
        }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in try await connection.inTransaction { try await body(connection) } }
    }

    /// A session advisory lock on `lockKey`, held on the connection the body uses.
    public func withExclusiveConnection<T: Sendable>(lockKey: Int64, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            _ = try await connection.query("SELECT pg_advisory_lock(?)", [.int(lockKey)])
            do {
                let result = try await body(connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(?)", [.int(lockKey)])
                return result
            } catch {
                // A broken connection drops its locks with it; on a live one, release explicitly.
                _ = try? await connection.query("SELECT pg_advisory_unlock(?)", [.int(lockKey)])
                throw error
            }
        }
    }

    public func serve() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    public func close() async throws {
        pool.cancel()
        await pool.value
    }

    /// Turns the driver's errors into the store's: lost connections into ``DatabaseUnavailableError``
    /// (503, and the pool heals), duplicate keys into ``SQLUniqueViolation``.
    private static func translatingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            if error.code == .server {
                let state = error.serverInfo?[.sqlState] ?? ""
                if state == "23505" { throw SQLUniqueViolation() }
                // 08: connection exceptions; 57P: the server is shutting down or starting.
                if state.hasPrefix("08") || state.hasPrefix("57P") { throw DatabaseUnavailableError(reason: state) }
                throw error
            }
            throw DatabaseUnavailableError(reason: "\(error.code)")
        }
    }

    /// A pooled connection as the store sees it: `?` placeholders become `$1`, `$2`, ...
    private struct Statements: SQLConnection {
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            var bindings = PostgresBindings(capacity: binds.count)
            for bind in binds {
                switch bind {
                case .int(let value): bindings.append(value)
                case .text(let value): bindings.append(value)
                case .double(let value): bindings.append(value)
                case .null: bindings.appendNull()
                }
            }
            let rows = try await translating {
                try await connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings), logger: logger).collect()
            }
            return try rows.map { row in
                var values: [String: SQLValue] = [:]
                for cell in row { values[cell.columnName] = try Self.value(cell) }
                return SQLRow(values)
            }
        }

        private func translating<T>(_ body: () async throws -> T) async throws -> T {
            try await PostgresDatabase.translatingErrors(body)
        }

        /// `?` → `$n`, outside quoted strings.
        static func numbered(_ sql: String) -> String {
            var result = ""
            var number = 0
            var inString = false
            for character in sql {
                if character == "'" { inString.toggle() }
                if character == "?", !inString {
                    number += 1
                    result += "$\(number)"
                } else {
                    result.append(character)
                }
            }
            return result
        }

        private static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            case .float4, .float8, .numeric: return .double(try cell.decode(Double.self))
            case .void: return .null
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
