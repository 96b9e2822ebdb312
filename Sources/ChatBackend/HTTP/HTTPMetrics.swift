import Hummingbird
import Metrics

/// Requests by route template, method and status, with their durations.
struct RequestMetrics: RequestObserver {
    let factory: any MetricsFactory

    func answered(_ request: AnsweredRequest, context: some RequestContext) {
        // The factory keeps one metric per label set: asking again finds it.
        let dimensions = [
            ("route", request.route), ("method", request.method.rawValue), ("status", String(request.status.code)),
        ]
        Counter(label: "chat_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "chat_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            .record(duration: request.duration)
    }
}

/// Log-in attempts, by how they ended.
struct LoginMetrics: Sendable {
    enum Outcome: String, CaseIterable {
        /// A key was issued.
        case success
        /// Wrong credentials, an inactive or unverified account, or a malformed request.
        case refused
        /// Refused before checking, for too many attempts.
        case throttled
        /// The server could not decide (its database or Google unreachable).
        case failed
    }

    private let attempts: [Outcome: Counter]

    init(factory: any MetricsFactory) {
        attempts = Dictionary(uniqueKeysWithValues: Outcome.allCases.map { outcome in
            (outcome, Counter(label: "chat_login_attempts_total", dimensions: [("outcome", outcome.rawValue)], factory: factory))
        })
    }

    /// Runs one log-in attempt and counts how it ended.
    func counting(_ attempt: () async throws -> Response) async throws -> Response {
        do {
            let response = try await attempt()
            attempts[.success]?.increment()
            return response
        } catch {
            attempts[Self.outcome(of: error)]?.increment()
            throw error
        }
    }

    private static func outcome(of error: any Error) -> Outcome {
        guard let status = (error as? any HTTPResponseError)?.status else { return .failed }
        switch status.code {
        case 429: return .throttled
        case 400..<500: return .refused
        default: return .failed
        }
    }
}
