import Hummingbird

/// Puts the caller of a request in its context, by the ``Authenticator``'s one policy.
///
/// In `required` mode a request without a valid token is answered 401 here, before any route
/// code runs; in optional mode (logout) an anonymous request passes through.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = ChatRequestContext
    let authenticator: Authenticator
    var required = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.caller = try await authenticator.caller(presenting: PresentedKey(authorization: request.headers[.authorization]))
        if required, context.caller == nil { throw APIError.notAuthenticated }
        return try await next(request, context)
    }
}
