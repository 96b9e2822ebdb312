import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The parts of a running server that routes and sockets share, and the routers built from them.
struct ChatServices: Sendable {
    let store: ChatStore
    let accounts: AccountSettings
    let hasher: PasswordHasher
    let outbox: any MailOutbox
    let google: GoogleTokenVerifier?
    let hub: ChatHub
    let channelLayer: any ChannelLayer
    /// `scheme://host` of the server's absolute URLs, when fixed by the operator.
    let publicBaseURL: String?
    /// How long a socket's authorization check holds before a frame checks again.
    let socketReauthorizationInterval: Duration
    /// What must run beside the server (the Redis subscriber).
    let backgroundServices: [any Service]

    /// Every REST route of the contract.
    func httpRouter() -> Router<ChatRequestContext> {
        let router = Router(context: ChatRequestContext.self)
        router.middlewares.add(ErrorMiddleware())
        if let publicBaseURL { router.middlewares.add(PublicBaseURLMiddleware(url: publicBaseURL)) }
        AuthController(store: store, settings: accounts, hasher: hasher, outbox: outbox, google: google)
            .addRoutes(to: router.group("api/rest-auth"))
        UserController(store: store)
            .addRoutes(to: router.group("api/user").add(middleware: TokenAuthenticator(store: store)))
        ChatController(store: store)
            .addRoutes(to: router.group("api/chat").add(middleware: TokenAuthenticator(store: store)))
        // A socket route reached without an upgrade, or with one that was refused: say why.
        router.get("ws/chat/:uuid/") { request, context -> Response in
            _ = try await SocketAdmission(store: store).admit(request, chatParameter: context.parameters.get("uuid"))
            throw APIError.detail(.upgradeRequired, "This route is a WebSocket: connect with an upgrade request.")
        }
        APISchemaController().addRoutes(to: router.group("apischema"))
        // Last: it then only sees requests that no route matched.
        router.middlewares.add(MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// Decides an upgrade request to `/ws/chat/<uuid>/`: the session to run, or the refusal.
    @Sendable func acceptSocket(_ request: Request, logger: Logger) async -> ChatServerChannel.SocketDecision {
        let components = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count == 3, components[0] == "ws", components[1] == "chat" else { return .refuse(.notFound) }
        let admitted: SocketAdmission.Admitted
        do {
            admitted = try await SocketAdmission(store: store).admit(request, chatParameter: String(components[2]))
        } catch let error as APIError {
            return .refuse(error)
        } catch {
            logger.error("socket admission failed", metadata: ["error": "\(error)"])
            return .refuse(.detail(.serviceUnavailable, "The service is temporarily unavailable; try again shortly."))
        }
        let session = ChatSocketSession(
            user: admitted.user, chat: admitted.chat, tokenDigest: admitted.tokenDigest,
            reauthorizationInterval: socketReauthorizationInterval,
            store: store, channelLayer: channelLayer, hub: hub, logger: logger
        )
        return .accept { inbound, outbound, context in
            await session.run(inbound: inbound, outbound: outbound, shutdown: context.shutdown)
        }
    }
}
