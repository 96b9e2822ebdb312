import Foundation
import Logging
import Prometheus

/// Everything the server can be told, from the command line and the environment.
public struct AppConfiguration: Sendable {
    /// Address to bind.
    public var hostname = "127.0.0.1"
    /// Port to bind; 0 picks a free one (tests).
    public var port = 8000
    /// Where the state lives.
    public var database = DatabaseLocation.sqliteFile("chat.sqlite3")
    /// `redis://host:port` of the channel layer shared by several nodes; nil: in-process (one node).
    public var redisURL: String?
    /// Redis channel names start with this: nodes of one deployment share it; deployments sharing
    /// one Redis (test runs) each need their own.
    public var redisChannelPrefix = "chat"
    /// Account behaviour (bcrypt cost, mandatory e-mail verification, ...).
    public var accounts = AccountSettings()
    /// Rate limits of log-ins, registrations, password changes, e-mail resends and messages.
    public var rateLimits = RateLimitSettings()
    /// Google sign-in (off until client IDs are set).
    public var google = GoogleSettings()
    /// How much to log.
    public var logLevel = Logger.Level.info
    /// How the executable writes log records: one line of text, or one JSON object, per record.
    public var logFormat = LogFormat.text
    /// Where log records go; nil: the process's logging system. Tests read the records here.
    public var logHandler: (@Sendable (String) -> any LogHandler)?
    /// How long clients are waited for, and how many are served at once.
    public var connections = ConnectionSettings()
    /// Where e-mail goes; nil writes it to the log.
    public var mailOutbox: (any MailOutbox)?
    /// The time source of message stamps and chat activity; tests fix it.
    public var clock: @Sendable () -> Timestamp = { .now }
    /// `scheme://host` of the server as its users reach it (`https://chat.example.com`): absolute
    /// URLs are built from it. Nil: from each request's Host header, which a client can forge.
    public var publicBaseURL: String?
    /// A socket checks its token and membership again on the first frame after this long: a
    /// logged-out token or a removed member loses the socket (closed with 1008) within it.
    public var socketReauthorizationInterval = Duration.seconds(10)
    /// Called with the bound port once the server listens (port 0 picks a free one).
    public var onListening: (@Sendable (Int) async -> Void)?
    /// Wraps the channel layer: the simulator's tests put a faulty one in front, to prove that the
    /// invariant checks catch a server that loses, duplicates or reorders broadcasts.
    public var wrapChannelLayer: (@Sendable (any ChannelLayer) -> any ChannelLayer)?

    /// Makes the server's metrics, in a registry of this configuration's own: several servers in
    /// one process (tests) keep theirs apart, and nothing depends on the process-wide bootstrap.
    /// Durations are histograms in seconds, with buckets from 0.1 ms (a statement, a fan-out) to 10 s.
    public var metrics = PrometheusMetricsFactory.chatServer()
    /// The bearer token `GET /metrics` asks for; nil: the route answers 404.
    public var metricsToken: String?

    /// The embedded defaults.
    public init() {}

    /// Every environment variable the server reads, with what it means: `chat-server --help`
    /// prints this list, and reading a variable missing from it is a programming error.
    public static let environmentVariables: [(name: String, meaning: String)] = [
        ("DATABASE_URL", "sqlite:///abs/path.sqlite3, sqlite://rel/path.sqlite3, sqlite::memory: (default: chat.sqlite3 here), or postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-full&sslrootcert=CA.pem&pool_size=20&connect_timeout=3&query_timeout=10"),
        ("REDIS_URL", "redis://host:port: the channel layer between nodes (default: none, one node)"),
        ("REDIS_CHANNEL_PREFIX", "Redis channel names start with this; nodes of one deployment share it (default chat)"),
        ("PUBLIC_BASE_URL", "https://chat.example.com: the start of every absolute URL (default: the request's Host)"),
        ("LOG_LEVEL", "trace, debug, info (default), notice, warning, error, critical"),
        ("LOG_FORMAT", "text (default) or json: one JSON object per line (timestamp, level, label, message, metadata), for log shippers"),
        ("METRICS_TOKEN", "a bearer token: GET /metrics answers Prometheus's text to a scraper presenting it (default: none, /metrics answers 404)"),
        ("BCRYPT_COST", "bcrypt work factor, 4...31 (default 12)"),
        ("REQUIRE_EMAIL_VERIFICATION", "true or false (default false): refuse log-in until the e-mail is confirmed"),
        ("REQUIRE_OLD_PASSWORD", "true or false (default false): password change asks for old_password"),
        ("RATE_LIMITS", "on (default) or off: off turns every rate limit off (benchmarks, fuzzing; never in production)"),
        ("RATE_LIMIT_LOGIN_PER_ADDRESS", "log-in attempts per client address, as <n>/s or <n>/min with an optional ,burst=<n>, or off (default 1/s,burst=20)"),
        ("RATE_LIMIT_LOGIN_PER_ACCOUNT", "log-in attempts per account, from anywhere (default 6/min,burst=5)"),
        ("RATE_LIMIT_REGISTRATION_PER_ADDRESS", "registrations per client address (default 3/min,burst=5)"),
        ("RATE_LIMIT_PASSWORD_CHANGE_PER_ACCOUNT", "password changes per account (default 3/min,burst=5)"),
        ("RATE_LIMIT_EMAIL_RESEND", "confirmation e-mails sent again, per client address and per e-mail address (default 1/min,burst=3)"),
        ("RATE_LIMIT_MESSAGES_PER_USER", "messages one user sends, all sockets together (default 100/s,burst=200)"),
        ("TRUST_X_FORWARDED_FOR", "true or false (default false): count clients by the last X-Forwarded-For address (set only behind a proxy that appends it)"),
        ("GOOGLE_CLIENT_IDS", "comma-separated OAuth client IDs whose tokens are accepted (default: Google sign-in off)"),
        ("GOOGLE_JWKS_URL", "Google's signing keys (default https://www.googleapis.com/oauth2/v3/certs)"),
        ("GOOGLE_TOKENINFO_URL", "where access tokens are checked (default https://oauth2.googleapis.com/tokeninfo)"),
        ("GOOGLE_HOSTED_DOMAIN", "admit only accounts of this Workspace domain (default: any)"),
        ("GOOGLE_AUTH_URL", "Google's consent page, where /app/ sends people to sign in for the first client ID (default https://accounts.google.com/o/oauth2/v2/auth)"),
    ]

    /// Reads the ``environmentVariables`` over the defaults; throws a message a person can act on
    /// when one is malformed.
    public static func fromEnvironment(_ environment: [String: String]) throws -> AppConfiguration {
        let environment = Environment(values: environment)
        var configuration = AppConfiguration()
        if let url = environment["DATABASE_URL"] {
            configuration.database = try DatabaseLocation(url: url)
        }
        configuration.redisURL = environment["REDIS_URL"]
        if let prefix = environment["REDIS_CHANNEL_PREFIX"] {
            configuration.redisChannelPrefix = prefix
        }
        if let base = environment["PUBLIC_BASE_URL"] {
            guard let url = URLComponents(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil,
                url.path.isEmpty || url.path == "/", url.query == nil
            else {
                throw ConfigurationError("PUBLIC_BASE_URL must be like https://chat.example.com (scheme and host only); got '\(base)'")
            }
            configuration.publicBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        }
        if let level = environment["LOG_LEVEL"] {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; got '\(level)'")
            }
            configuration.logLevel = parsed
        }
        if let format = environment["LOG_FORMAT"] {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw ConfigurationError("LOG_FORMAT must be text or json; got '\(format)'")
            }
            configuration.logFormat = parsed
        }
        configuration.metricsToken = environment["METRICS_TOKEN"]
        if let cost = environment["BCRYPT_COST"] {
            guard let parsed = UInt8(cost), (4...31).contains(parsed) else {
                throw ConfigurationError("BCRYPT_COST must be an integer from 4 to 31; got '\(cost)'")
            }
            configuration.accounts.bcryptCost = parsed
        }
        if let ids = environment["GOOGLE_CLIENT_IDS"] {
            configuration.google.clientIDs = ids.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let url = environment["GOOGLE_JWKS_URL"] { configuration.google.jwksURL = url }
        if let url = environment["GOOGLE_TOKENINFO_URL"] { configuration.google.tokenInfoURL = url }
        if let domain = environment["GOOGLE_HOSTED_DOMAIN"] { configuration.google.hostedDomain = domain }
        if let url = environment["GOOGLE_AUTH_URL"] { configuration.google.authorizationURL = url }
        try readRateLimits(environment, into: &configuration.rateLimits)
        configuration.accounts.requireEmailVerification = try flag("REQUIRE_EMAIL_VERIFICATION", environment) ?? false
        configuration.accounts.requireOldPassword = try flag("REQUIRE_OLD_PASSWORD", environment) ?? false
        return configuration
    }

    /// The process environment as the configuration reads it: an empty value counts as unset, and
    /// only documented variables may be read.
    private struct Environment {
        let values: [String: String]

        subscript(name: String) -> String? {
            precondition(AppConfiguration.environmentVariables.contains { $0.name == name }, "\(name) is read but not documented")
            guard let value = values[name], !value.isEmpty else { return nil }
            return value
        }
    }

    private static func readRateLimits(_ environment: Environment, into limits: inout RateLimitSettings) throws {
        let rules: [(String, WritableKeyPath<RateLimitSettings, RateLimit?>)] = [
            ("RATE_LIMIT_LOGIN_PER_ADDRESS", \.loginPerAddress),
            ("RATE_LIMIT_LOGIN_PER_ACCOUNT", \.loginPerAccount),
            ("RATE_LIMIT_REGISTRATION_PER_ADDRESS", \.registrationPerAddress),
            ("RATE_LIMIT_PASSWORD_CHANGE_PER_ACCOUNT", \.passwordChangePerAccount),
            ("RATE_LIMIT_EMAIL_RESEND", \.emailResend),
            ("RATE_LIMIT_MESSAGES_PER_USER", \.messagesPerUser),
        ]
        if try flag("RATE_LIMITS", environment) == false {
            limits = .off
            return
        }
        for (name, rule) in rules {
            guard let text = environment[name] else { continue }
            if text.lowercased() == "off" {
                limits[keyPath: rule] = nil
            } else if let limit = RateLimit(parsing: text) {
                limits[keyPath: rule] = limit
            } else {
                throw ConfigurationError("\(name) must be like 10/s, 3/min or 0.5/s,burst=5, or off; got '\(text)'")
            }
        }
        limits.trustForwardedFor = try flag("TRUST_X_FORWARDED_FOR", environment) ?? false
    }

    private static func flag(_ name: String, _ environment: Environment) throws -> Bool? {
        guard let value = environment[name]?.lowercased() else { return nil }
        switch value {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(name) must be true or false; got '\(value)'")
        }
    }
}

/// How log records are written.
public enum LogFormat: String, Sendable {
    /// swift-log's line of text, for people.
    case text
    /// One JSON object per line (``JSONLogHandler``), for log shippers.
    case json
}

extension PrometheusMetricsFactory {
    /// A factory over a new registry, whose duration histograms start at 0.1 ms: the default
    /// buckets start at 5 ms, above most statements and fan-outs.
    public static func chatServer() -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        return factory
    }
}

/// Where the server keeps its state.
public enum DatabaseLocation: Sendable, Equatable {
    /// An SQLite file, created if missing.
    case sqliteFile(String)
    /// An SQLite database in memory, gone when the server stops.
    case sqliteMemory
    /// A PostgreSQL database: `postgres://user:password@host:port/database`.
    case postgres(String)

    /// Parses `sqlite:///absolute/path`, `sqlite://relative/path`, `sqlite::memory:` or a bare file path.
    public init(url: String) throws {
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            self = .sqliteMemory
        } else if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw ConfigurationError("DATABASE_URL 'sqlite://' names no file") }
            self = .sqliteFile(path)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            _ = try PostgresSettings(url: url)  // Malformed settings stop the server at start, not at the first query.
            self = .postgres(url)
        } else if !url.contains("://") {
            self = .sqliteFile(url)
        } else {
            throw ConfigurationError("DATABASE_URL must be sqlite:///path/file.sqlite3, sqlite::memory: or postgres://user:password@host:port/database; got '\(url)'")
        }
    }
}
