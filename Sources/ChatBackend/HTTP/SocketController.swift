import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `/ws/chat/<uuid>/`, the chat socket, and `/ws/`, the user socket (PROTOCOL.md), registered
/// once like any route.
///
/// Who may open it: the token (header, or `?token=` for browsers, or else the session cookie the
/// log-in set, from a page of this server's own origin: 403 otherwise) must be valid (401), the
/// chat must exist (404) and the caller must take part in it (403). A refusal is the router's ordinary
/// error answer, which ``ChatServerChannel`` writes as the answer to the upgrade request; a plain
/// GET that passes the checks is answered 426.
struct SocketController {
    let authenticator: Authenticator
    let store: ChatStore
    /// Makes the session that serves an admitted socket.
    let makeSession: @Sendable (_ caller: Caller, _ chat: Chat, _ logger: Logger) -> ChatSocketSession
    /// Makes the session that serves an admitted user socket.
    let makeUserSession: @Sendable (_ caller: Caller, _ logger: Logger) -> UserSocketSession

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("ws/chat/:uuid/", use: open)
        router.get("ws/", use: openUserSocket)
    }

    /// The user socket: a valid token (or session cookie) is all it asks (401 without one).
    @Sendable func openUserSocket(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try await admittedCaller(request, context: context)
        guard context.admittedSocket.isUpgradeRequest else {
            throw APIError.detail(.upgradeRequired, "This route is a WebSocket: connect with an upgrade request.")
        }
        let session = makeUserSession(caller, context.logger)
        context.admittedSocket.admit { inbound, outbound, socketContext in
            await session.run(inbound: inbound, outbound: outbound, connection: socketContext.connection)
        }
        return Response(status: .switchingProtocols)
    }

    @Sendable func open(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try await admittedCaller(request, context: context)
        guard let uuid = context.parameters.get("uuid").flatMap(UUID.init(uuidString:)), let chat = try await store.chat(uuid: uuid) else {
            throw APIError.notFound
        }
        guard try await store.isParticipant(userID: caller.user.id, chatID: chat.id) else {
            throw APIError.detail(.forbidden, "You do not take part in this chat.")
        }
        guard context.admittedSocket.isUpgradeRequest else {
            throw APIError.detail(.upgradeRequired, "This route is a WebSocket: connect with an upgrade request.")
        }
        let session = makeSession(caller, chat, context.logger)
        context.admittedSocket.admit { inbound, outbound, socketContext in
            await session.run(inbound: inbound, outbound: outbound, connection: socketContext.connection)
        }
        return Response(status: .switchingProtocols)
    }

    /// Who opens a socket: refused while the server shuts down (503), with the session cookie
    /// from another site's page (403), and without a valid token (401).
    private func admittedCaller(_ request: Request, context: ChatRequestContext) async throws -> Caller {
        guard !Task.isShuttingDownGracefully else {
            throw APIError.detail(.serviceUnavailable, "The server is shutting down; connect again in a moment.")
        }
        var key = PresentedKey(
            authorization: request.headers[.authorization],
            query: request.uri.queryParameters["token"].map(String.init)
        )
        if key == .absent, let cookie = SessionCookie.value(in: request) {
            // Only what the browser sends by itself needs the origin check: a token in the header
            // or the query was put there by the page, which had to know it.
            try SessionCookie.checkOrigin(request, context: context)
            key = PresentedKey(sessionCookie: cookie)
        }
        guard let caller = try await authenticator.caller(presenting: key) else { throw APIError.notAuthenticated }
        return caller
    }
}
