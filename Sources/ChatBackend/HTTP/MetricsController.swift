import Crypto
import Hummingbird
import Prometheus

/// `GET /metrics`: the server's metrics in Prometheus's text format, for a scraper that presents
/// the configured bearer token (`METRICS_TOKEN`).
///
/// Without a configured token the route answers 404, as if it did not exist: nothing leaks from a
/// server whose operator did not ask for metrics. With one, a request without it or with another
/// answers 401.
struct MetricsController {
    let registry: PrometheusCollectorRegistry
    /// The SHA-256 digest of the token; nil: metrics are off.
    private let tokenDigest: SHA256.Digest?

    init(registry: PrometheusCollectorRegistry, token: String?) {
        self.registry = registry
        self.tokenDigest = token.map { SHA256.hash(data: Array($0.utf8)) }
    }

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("metrics", use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: ChatRequestContext) async throws -> Response {
        guard let tokenDigest else { throw APIError.notFound }
        // Digests of equal length compare in constant time (Crypto's `==`): the answer's timing
        // says nothing of how much of a guess was right.
        guard let presented = Self.bearerToken(request.headers[.authorization]),
            SHA256.hash(data: Array(presented.utf8)) == tokenDigest
        else {
            throw APIError(.unauthorized, body: ["detail": "Present the metrics token: Authorization: Bearer <token>."], headers: [.wwwAuthenticate: "Bearer"])
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
        )
    }

    private static func bearerToken(_ authorization: String?) -> String? {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        return String(authorization.dropFirst(7))
    }
}
