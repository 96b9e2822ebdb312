import Hummingbird

/// The REST routes' rate limiters (the settings in ``RateLimitSettings``), and the client
/// address they count by.
struct Throttle: Sendable {
    /// Which allowance a request draws on.
    enum Kind: CaseIterable {
        case loginPerAddress, loginPerAccount, registrationPerAddress, passwordChangePerAccount, emailResend
    }

    private let limiters: [Kind: RateLimiter]
    private let trustForwardedFor: Bool

    init(_ settings: RateLimitSettings) {
        let rules: [Kind: RateLimit?] = [
            .loginPerAddress: settings.loginPerAddress,
            .loginPerAccount: settings.loginPerAccount,
            .registrationPerAddress: settings.registrationPerAddress,
            .passwordChangePerAccount: settings.passwordChangePerAccount,
            .emailResend: settings.emailResend,
        ]
        self.limiters = rules.compactMapValues { $0.map { RateLimiter($0) } }
        self.trustForwardedFor = settings.trustForwardedFor
    }

    /// Takes one of `key`'s allowance of `kind`, or throws 429 with `Retry-After`.
    func check(_ kind: Kind, _ key: String) throws {
        if let wait = limiters[kind]?.take(key) { throw APIError.throttled(retryAfter: wait) }
    }

    /// Takes one of the client address's allowance of `kind`, or throws 429.
    func check(_ kind: Kind, addressOf request: Request, context: ChatRequestContext) throws {
        try check(kind, "address " + clientAddress(request, context: context))
    }

    /// Who a request comes from: the connection's peer, or behind a trusted proxy the address it
    /// appended to `X-Forwarded-For` (the last one; earlier ones are the client's own say).
    func clientAddress(_ request: Request, context: ChatRequestContext) -> String {
        if trustForwardedFor, let forwarded = request.headers[.init("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return context.peerAddress ?? "unknown"
    }
}
