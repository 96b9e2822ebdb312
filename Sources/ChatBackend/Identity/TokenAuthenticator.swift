import Hummingbird

/// Recognises `Authorization: Token <key>` (or `Bearer <key>`) and puts the caller in the context.
///
/// In `required` mode a request without a valid token is answered 401 here, before any route
/// code runs; in optional mode (logout) it passes through anonymous.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = ChatRequestContext
    let store: ChatStore
    var required = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        switch Self.presentedKey(request) {
        case nil:
            if required { throw APIError.notAuthenticated }
        case let key?:
            guard let user = try await store.user(tokenHash: key.digest) else { throw APIError.invalidToken }
            context.user = user
            context.tokenDigest = key.digest
        }
        return try await next(request, context)
    }

    /// The key in the `Authorization` header; a header of another scheme counts as no key, and a
    /// malformed one as an invalid key (DRF does the same).
    static func presentedKey(_ request: Request) -> SecretKey? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let scheme = parts.first?.lowercased(), scheme == "token" || scheme == "bearer" else { return nil }
        guard parts.count == 2, parts[1].count <= 256 else { return SecretKey("") }
        return SecretKey(String(parts[1]))
    }
}
