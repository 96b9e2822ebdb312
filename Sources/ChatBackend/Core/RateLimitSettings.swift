/// Every rate limit of the server, in one place, with the defaults an operator starts from
/// (close to Synapse's `rc_login` and `rc_registration`). Each is a ``RateLimit``; nil turns it off.
///
/// The limits hold per node: with several nodes behind a balancer, a client can reach each
/// node's allowance.
public struct RateLimitSettings: Sendable, Equatable {
    /// Log-in attempts from one client address.
    public var loginPerAddress: RateLimit? = RateLimit(perSecond: 1, burst: 20)
    /// Log-in attempts for one account (by e-mail), from anywhere: guessing one password is slow.
    public var loginPerAccount: RateLimit? = RateLimit(perSecond: 0.1, burst: 5)
    /// Registrations from one client address.
    public var registrationPerAddress: RateLimit? = RateLimit(perSecond: 0.05, burst: 5)
    /// Password changes of one account.
    public var passwordChangePerAccount: RateLimit? = RateLimit(perSecond: 0.05, burst: 5)
    /// Confirmation e-mails sent again, per client address and per address written to.
    public var emailResend: RateLimit? = RateLimit(perSecond: 1.0 / 60, burst: 3)
    /// Messages one user sends, on every socket together.
    public var messagesPerUser: RateLimit? = RateLimit(perSecond: 100, burst: 200)
    /// Whether the client address is the last one in `X-Forwarded-For` (the one the proxy in front
    /// added) rather than the connection's peer. Only behind a proxy that sets it: otherwise a
    /// client picks its own address.
    public var trustForwardedFor = false

    /// The defaults.
    public init() {}

    /// Every rule, for code that treats them alike (turning them all off, reading them from the
    /// environment).
    public static var rules: [WritableKeyPath<RateLimitSettings, RateLimit?>] {
        [\.loginPerAddress, \.loginPerAccount, \.registrationPerAddress, \.passwordChangePerAccount, \.emailResend, \.messagesPerUser]
    }

    /// No limit at all (tests of other things, and benchmarks that mean to saturate the server).
    public static var off: RateLimitSettings {
        var settings = RateLimitSettings()
        for rule in rules { settings[keyPath: rule] = nil }
        return settings
    }
}
