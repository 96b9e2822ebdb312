import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The production database: PostgreSQL through postgres-nio's pooled, non-blocking client.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let queryTimeout: Duration
    private let logger: Logger

    /// A pool for the database the settings name. It connects lazily, once ``run()`` runs (the
    /// application adds the database to its services), and reconnects by itself after a restart
    /// of PostgreSQL.
    public init(settings: PostgresSettings, logger: Logger) throws {
        var configuration = PostgresClient.Configuration(
            host: settings.host,
            port: settings.port,
            username: settings.username,
            password: settings.password,
            database: settings.database,
            tls: try Self.tls(settings)
        )
        configuration.options.connectTimeout = settings.connectTimeout
        configuration.options.maximumConnections = settings.poolSize
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.queryTimeout = settings.queryTimeout
        self.logger = logger
    }

    /// A pool for `postgres://user:password@host:port/database?parameters` (see ``PostgresSettings``).
    public convenience init(url: String, logger: Logger) throws {
        try self.init(settings: PostgresSettings(url: url), logger: logger)
    }

    private static func tls(_ settings: PostgresSettings) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch settings.tls {
        case .disable:
            return .disable
        case .prefer, .require:
            tls.certificateVerification = .none
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            if let file = settings.certificateAuthorityFile {
                do {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
                } catch {
                    throw ConfigurationError("DATABASE_URL: cannot read the CA file sslrootcert='\(file)': \(error)")
                }
            }
        }
        return settings.tls == .prefer ? .prefer(tls) : .require(tls)
    }

    /// Runs the connection pool until graceful shutdown or cancellation.
    public func run() async throws {
        await client.run()
    }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await Self.translatingErrors {
            try await Self.withDeadline(queryTimeout) { [client, logger] in
                try await client.withConnection { connection in try await body(Statements(connection: connection, logger: logger)) }
            }
        }
    }

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
