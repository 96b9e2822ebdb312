import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// The parts of a running server that routes and sockets share, and the router built from them.
struct ChatServices: Sendable {
    let store: ChatStore
    let authenticator: Authenticator
    let accounts: AccountSettings
    let rateLimits: RateLimitSettings
    let hasher: PasswordHasher
    let outbox: any MailOutbox
    let google: GoogleTokenVerifier?
    /// What the web app's "Sign in with Google" button needs; nil: no button.
    let webAppGoogle: WebAppController.GoogleSignIn?
    let hub: ChatHub
    let channelLayer: any ChannelLayer
    /// `scheme://host` of the server's absolute URLs, when fixed by the operator.
    let publicBaseURL: String?
    /// How long a socket's authorization check holds before a frame checks again.
    let socketReauthorizationInterval: Duration
    /// Every socket of a user draws on one allowance of messages.
    let messageLimiter: RateLimiter?
    /// What must run beside the server (the Redis subscriber).
    let backgroundServices: [any Service]
    /// Where the server's metrics are kept, and the factory that makes them there.
    let metrics: PrometheusMetricsFactory
    /// The bearer token `/metrics` asks for; nil: `/metrics` answers 404.
    let metricsToken: String?
    let deliveryMetrics: DeliveryMetrics
    /// The server's logger, for what happens outside a request (announcing changes to sockets).
    let logger: Logger

    /// Every route of the contract, REST and sockets.
    func router() -> Router<ChatRequestContext> {
        let router = Router(context: ChatRequestContext.self)
        router.middlewares.add(RequestObservationMiddleware(observers: [AccessLog(), RequestMetrics(factory: metrics)]))
        router.middlewares.add(ErrorMiddleware())
        if let publicBaseURL { router.middlewares.add(PublicBaseURLMiddleware(url: publicBaseURL)) }
        let signedIn = TokenAuthenticator(authenticator: authenticator)
        AuthController(
            store: store, authenticator: authenticator, settings: accounts, hasher: hasher, outbox: outbox,
            throttle: Throttle(rateLimits, metrics: metrics), logins: LoginMetrics(factory: metrics),
            channelLayer: channelLayer, google: google
        )
            .addRoutes(to: router.group("api/rest-auth"))
        UserController(store: store, events: chatEvents).addRoutes(to: router.group("api/user").add(middleware: signedIn))
        ChatController(
            store: store, channelLayer: channelLayer, messageLimiter: messageLimiter, deliveryMetrics: deliveryMetrics,
            events: chatEvents
        )
            .addRoutes(to: router.group("api/chat").add(middleware: signedIn))
        SocketController(authenticator: authenticator, store: store, makeSession: makeSocketSession, makeUserSession: makeUserSocketSession)
            .addRoutes(to: router)
        FrontPageController().addRoutes(to: router)
        WebAppController(google: webAppGoogle).addRoutes(to: router)
        HealthController(store: store, channelLayer: channelLayer).addRoutes(to: router)
        APISchemaController().addRoutes(to: router.group("apischema"))
        MetricsController(registry: metrics.registry, token: metricsToken).addRoutes(to: router)
        // Last: it then only sees requests that no route matched.
        router.middlewares.add(MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// Edits, deletes, read markers and membership changes, to the user sockets on every node.
    private var chatEvents: ChatEventSink {
        .broadcasting(through: channelLayer, store: store, logger: logger)
    }

    @Sendable private func makeUserSocketSession(caller: Caller, logger: Logger) -> UserSocketSession {
        UserSocketSession(
            caller: caller, reauthorizationInterval: socketReauthorizationInterval, authenticator: authenticator, store: store,
            channelLayer: channelLayer, hub: hub, messageLimiter: messageLimiter, metrics: deliveryMetrics, events: chatEvents,
            logger: logger
        )
    }

    @Sendable private func makeSocketSession(caller: Caller, chat: Chat, logger: Logger) -> ChatSocketSession {
        ChatSocketSession(
            caller: caller, chat: chat, reauthorizationInterval: socketReauthorizationInterval,
            authenticator: authenticator, store: store, channelLayer: channelLayer, hub: hub,
            messageLimiter: messageLimiter, metrics: deliveryMetrics, logger: logger
        )
    }
}
