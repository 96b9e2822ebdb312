import Hummingbird
import HummingbirdWebSocket

/// The request context of every route and socket upgrade.
public struct ChatRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ChatRequestContext>
    /// The caller, once ``TokenAuthenticator`` has recognised a token.
    public var user: User?
    /// The digest of the token the caller used, so logout and password change know which one.
    public var tokenDigest: String?
    /// `scheme://host` the server's absolute URLs start with, when the operator fixed it
    /// (`PUBLIC_BASE_URL`); nil: taken from the request's Host header.
    public var publicBaseURL: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }

    /// No route of the contract takes more than a few fields: bodies are bounded well below the default.
    public var maxUploadSize: Int { Limits.requestBodyBytes }

    /// The authenticated caller; only call behind ``TokenAuthenticator``.
    func requireUser() throws -> User {
        guard let user else { throw APIError.notAuthenticated }
        return user
    }
}
