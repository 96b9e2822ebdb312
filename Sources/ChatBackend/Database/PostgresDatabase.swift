import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

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
        // The server stops a statement that runs too long (the client cannot); a migration lifts
        // the bound for its own transactions.
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(settings.queryTimeout.components.seconds * 1000)")
        ]
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

    /// Runs `body` on a pooled connection. Waiting for one is bounded by the query timeout (then
    /// ``DatabaseUnavailableError``: the request answers 503); each statement is bounded by the
    /// same timeout on the server (`statement_timeout`), which stops the statement itself.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await Self.translatingErrors {
            try await Self.leasing(within: queryTimeout) { [client, logger] leased in
                try await client.withConnection { connection in
                    leased()
                    return try await body(Statements(connection: connection, logger: logger))
                }
            }
        }
    }

    /// Runs `body`, or throws ``DatabaseUnavailableError`` (and cancels it) when it has not called
    /// `leased` within `timeout`. Only the wait for a connection is timed here: a client-side
    /// deadline cannot stop a statement the server runs (the server's `statement_timeout` does),
    /// and a migration building an index on a large table may rightly take longer.
    private static func leasing<T: Sendable>(
        within timeout: Duration, _ body: @escaping @Sendable (_ leased: @escaping @Sendable () -> Void) async throws -> T
    ) async throws -> T {
        let lease = LeaseFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body { lease.isLeased.store(true, ordering: .releasing) } }
            group.addTask {
                try await Task.sleep(for: timeout)
                guard lease.isLeased.load(ordering: .acquiring) else {
                    throw DatabaseUnavailableError(reason: "no database connection within \(timeout)")
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }

    /// Whether a body has its connection: a class, so the body and the timer share one flag.
    private final class LeaseFlag: Sendable {
        let isLeased = Atomic(false)
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in try await connection.inTransaction { try await body(connection) } }
    }

    /// A session advisory lock on `lockKey`, held on the connection the body uses. Its statements
    /// have no time bound: waiting for another node's migrations, or building an index over a
    /// large table, may take longer than any request should.
    public func withExclusiveConnection<T: Sendable>(lockKey: Int64, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            _ = try await connection.query("SET statement_timeout = 0", [])
            _ = try await connection.query("SELECT pg_advisory_lock(?)", [.int(lockKey)])
            do {
                let result = try await body(connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(?)", [.int(lockKey)])
                _ = try await connection.query("RESET statement_timeout", [])
                return result
            } catch {
                // A broken connection drops its locks with it; on a live one, release explicitly.
                _ = try? await connection.query("SELECT pg_advisory_unlock(?)", [.int(lockKey)])
                _ = try? await connection.query("RESET statement_timeout", [])
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
