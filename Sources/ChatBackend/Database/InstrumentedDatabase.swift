import Metrics
import ServiceLifecycle

/// What the database reports: how long statements take, and how many connections are held.
public struct DatabaseMetrics: Sendable {
    /// Every statement's duration, from sending it to having its rows.
    let queryDuration: Timer
    /// Connections lent out right now: with PostgreSQL, the pool's use (its size is `pool_size`);
    /// with SQLite, the writer and the readers busy.
    let connectionsInUse: Meter

    /// Metrics made by `factory`.
    public init(factory: any MetricsFactory) {
        queryDuration = Timer(label: "chat_db_query_duration_seconds", factory: factory)
        connectionsInUse = Meter(label: "chat_db_connections_in_use", factory: factory)
        connectionsInUse.set(0)
    }
}

/// A database in front of a driver that measures what the driver does, so both drivers are
/// measured alike and neither knows about metrics.
public final class InstrumentedDatabase: SQLDatabase {
    private let base: any SQLDatabase
    private let metrics: DatabaseMetrics

    /// Measures `base`.
    public init(_ base: any SQLDatabase, metrics: DatabaseMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public var dialect: SQLDialect { base.dialect }

    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await base.withConnection { [metrics] connection in try await Self.holding(connection, metrics: metrics, body) }
    }

    public func withReadConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await base.withReadConnection { [metrics] connection in try await Self.holding(connection, metrics: metrics, body) }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await base.transaction { [metrics] connection in try await Self.holding(connection, metrics: metrics, body) }
    }

    public func withExclusiveConnection<T: Sendable>(lockKey: Int64, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await base.withExclusiveConnection(lockKey: lockKey) { [metrics] connection in
            try await Self.holding(connection, metrics: metrics, body)
        }
    }

    public func run() async throws {
        try await base.run()
    }

    /// Runs `body` on a timed view of `connection`, counted as in use meanwhile.
    private static func holding<T>(
        _ connection: any SQLConnection, metrics: DatabaseMetrics, _ body: (any SQLConnection) async throws -> T
    ) async throws -> T {
        metrics.connectionsInUse.increment()
        defer { metrics.connectionsInUse.decrement() }
        return try await body(TimedConnection(base: connection, duration: metrics.queryDuration))
    }

    /// A connection that times each statement.
    private struct TimedConnection: SQLConnection {
        let base: any SQLConnection
        let duration: Timer

        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            let start = ContinuousClock.now
            defer { duration.record(duration: ContinuousClock.now - start) }
            return try await base.query(sql, binds)
        }
    }
}
