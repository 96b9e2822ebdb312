import Hummingbird
import Logging

/// A request the server has answered, as the access log and the request metrics see it.
struct AnsweredRequest: Sendable {
    let method: HTTPRequest.Method
    /// The route's template (`/api/chat/{uuid}`), never the raw path: a path holds ids and tokens,
    /// and would make a metric label per chat. `NotFound` when no route matched.
    let route: String
    let status: HTTPResponse.Status
    /// From the router's first look at the request to its answer (its body not yet written).
    let duration: Duration
}

/// Something told of every answered request.
protocol RequestObserver: Sendable {
    func answered(_ request: AnsweredRequest, context: some RequestContext)
}

/// Times each request and tells the observers how it was answered. Added first, so it sees the
/// errors every other middleware and route throws, before they become responses.
struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let observers: [any RequestObserver]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func observe(_ status: HTTPResponse.Status) {
            // The router fills the template in while routing: read it afterwards.
            let answered = AnsweredRequest(
                method: request.method, route: context.endpointPath ?? "NotFound", status: status, duration: .now - start
            )
            for observer in observers { observer.answered(answered, context: context) }
        }
        do {
            let response = try await next(request, context)
            observe(response.status)
            return response
        } catch {
            observe((error as? any HTTPResponseError)?.status ?? .internalServerError)
            throw error
        }
    }
}

/// One line at info per answered request: method, route template, status, duration in
/// milliseconds; the request's logger adds its id (`hb.request.id`).
struct AccessLog: RequestObserver {
    func answered(_ request: AnsweredRequest, context: some RequestContext) {
        context.logger.info(
            "\(request.method.rawValue) \(request.route) \(request.status.code)",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.route": .string(request.route),
                "http.status": .stringConvertible(request.status.code),
                "duration_ms": .stringConvertible(Self.milliseconds(request.duration)),
            ]
        )
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1e3 + Double(attoseconds) / 1e15
        return (milliseconds * 1e3).rounded() / 1e3  // Microseconds are as fine as a log reader needs.
    }
}
