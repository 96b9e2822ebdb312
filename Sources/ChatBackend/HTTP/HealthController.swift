import Hummingbird
import ServiceLifecycle

/// `/healthz` and `/readyz`, for load balancers and orchestrators. No token; never cached.
///
/// - `/healthz`: the process serves requests (200).
/// - `/readyz`: it should be sent new work: the database answers, the channel layer (Redis) is
///   reachable, and the server is not shutting down. 503 otherwise, naming what failed.
struct HealthController {
    let store: ChatStore
    let channelLayer: any ChannelLayer

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: readiness)
    }

    @Sendable func health(_ request: Request, context: ChatRequestContext) async throws -> Response {
        Self.uncached(.json(["status": "ok"]))
    }

    @Sendable func readiness(_ request: Request, context: ChatRequestContext) async throws -> Response {
        // A request in flight when the server starts draining sees it here; new connections are
        // refused from then on, which a balancer's check sees as not ready too.
        await readiness(draining: Task.isShuttingDownGracefully)
    }

    /// The readiness answer, for a server that is or is not draining.
    func readiness(draining: Bool) async -> Response {
        async let database = store.isReachable(within: Limits.readinessCheck)
        async let channels = channelLayer.isReachable()
        let checks: [(String, Bool)] = [("database", await database), ("channel_layer", await channels), ("accepting", !draining)]
        let ready = checks.allSatisfy(\.1)
        let body: JSONValue = [
            "status": .string(ready ? "ready" : "not ready"),
            "checks": .object(checks.map { ($0.0, .string($0.1 ? "ok" : "failing")) }),
        ]
        return Self.uncached(.json(body, status: ready ? .ok : .serviceUnavailable))
    }

    private static func uncached(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
