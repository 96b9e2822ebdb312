import Hummingbird
import Metrics

/// The REST routes' rate limiters (the settings in ``RateLimitSettings``), and the client
/// address they count by.
struct Throttle: Sendable {
    /// Which allowance a request draws on.
    enum Kind: CaseIterable {
        case loginPerAddress, loginPerAccount, registrationPerAddress, passwordChangePerAccount, emailResend

        /// The metric's label value: the setting's name without `RATE_LIMIT_`, in lower case.
        var label: String {
            switch self {
            case .loginPerAddress: "login_per_address"
            case .loginPerAccount: "login_per_account"
            case .registrationPerAddress: "registration_per_address"
            case .passwordChangePerAccount: "password_change_per_account"
            case .emailResend: "email_resend"
            }
        }
    }

    private let limiters: [Kind: RateLimiter]
    private let trustForwardedFor: Bool
    /// Requests refused, by kind.
    private let throttled: [Kind: Counter]

    init(_ settings: RateLimitSettings, metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        let rules: [Kind: RateLimit?] = [
            .loginPerAddress: settings.loginPerAddress,
            .loginPerAccount: settings.loginPerAccount,
            .registrationPerAddress: settings.registrationPerAddress,
            .passwordChangePerAccount: settings.passwordChangePerAccount,
            .emailResend: settings.emailResend,
        ]
        self.limiters = rules.compactMapValues { $0.map { RateLimiter($0) } }
        self.trustForwardedFor = settings.trustForwardedFor
        self.throttled = Dictionary(uniqueKeysWithValues: Kind.allCases.map { kind in
            (kind, Counter(label: "chat_throttled_requests_total", dimensions: [("kind", kind.label)], factory: metrics))
        })
    }

    /// Takes one of `key`'s allowance of `kind`, or throws 429 with `Retry-After`.
    ///
    /// The 429 is held back for up to ``Limits/throttledAnswerDelay`` first (a tarpit): a client
    /// that ignores `Retry-After` and asks again at once would otherwise make the server answer
    /// thousands of refusals a second, and those take the CPU the chats need. A held request is a
    /// suspended task, and a client's connections are capped, so holding costs next to nothing.
    func check(_ kind: Kind, _ key: String) async throws {
        if let wait = limiters[kind]?.take(key) {
            throttled[kind]?.increment()
            try? await Task.sleep(for: min(wait, Limits.throttledAnswerDelay))
            throw APIError.throttled(retryAfter: wait)
        }
    }

    /// Takes one of the client address's allowance of `kind`, or throws 429.
    func check(_ kind: Kind, addressOf request: Request, context: ChatRequestContext) async throws {
        try await check(kind, "address " + clientAddress(request, context: context))
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
