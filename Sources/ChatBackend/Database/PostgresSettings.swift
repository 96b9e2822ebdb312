import Foundation

/// How to reach PostgreSQL, read from a libpq-style URL:
/// `postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&pool_size=20&connect_timeout=3&query_timeout=10`.
///
/// The parameters and their defaults follow libpq where it has them (`sslmode` defaults to
/// `prefer`, as `psql` does); `pool_size` and `query_timeout` are this server's.
public struct PostgresSettings: Sendable, Equatable {
    /// Whether and how the connection is encrypted (libpq's `sslmode`).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Never encrypt.
        case disable
        /// Encrypt when the server offers it, without checking its certificate.
        case prefer
        /// Always encrypt, without checking the certificate (protects against eavesdropping only).
        case require
        /// Always encrypt, and check the certificate against the CA file and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port = 5432
    public var username = "postgres"
    public var password: String?
    public var database: String?
    public var tls = TLSMode.prefer
    /// A PEM file of the certificate authorities trusted for `verify-full` (libpq's `sslrootcert`);
    /// nil: the system's.
    public var certificateAuthorityFile: String?
    /// Connections the node keeps at most.
    public var poolSize = 20
    /// How long establishing one connection may take.
    public var connectTimeout = Duration.seconds(3)
    /// How long a request may wait for a connection before it answers 503, and how long the server
    /// lets one statement run (`statement_timeout`; migrations are not bounded).
    public var queryTimeout = Duration.seconds(10)

    /// Reads the URL; throws a ``ConfigurationError`` naming what is wrong.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError("DATABASE_URL '\(Self.redacted(url))' is not postgres://user:password@host:port/database")
        }
        self.host = host
        if let port = components.port { self.port = port }
        if let user = components.user, !user.isEmpty { self.username = user.removingPercentEncoding ?? user }
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = components.path.split(separator: "/").first.map(String.init)
        for item in components.queryItems ?? [] {
            try apply(item.name, item.value ?? "")
        }
    }

    private mutating func apply(_ name: String, _ value: String) throws {
        switch name {
        case "sslmode":
            guard let mode = TLSMode(rawValue: value) else {
                throw ConfigurationError("DATABASE_URL: sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
            }
            tls = mode
        case "sslrootcert":
            certificateAuthorityFile = value
        case "pool_size":
            poolSize = try Self.integer(name, value, in: 1...1000)
        case "connect_timeout":
            connectTimeout = .seconds(try Self.integer(name, value, in: 1...600))
        case "query_timeout":
            queryTimeout = .seconds(try Self.integer(name, value, in: 1...3600))
        default:
            throw ConfigurationError("DATABASE_URL: unknown parameter '\(name)' (known: sslmode, sslrootcert, pool_size, connect_timeout, query_timeout)")
        }
    }

    private static func integer(_ name: String, _ value: String, in range: ClosedRange<Int>) throws -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError("DATABASE_URL: \(name) must be an integer from \(range.lowerBound) to \(range.upperBound); got '\(value)'")
        }
        return number
    }

    /// The URL with its password hidden, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
