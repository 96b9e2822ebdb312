import Hummingbird

/// The request context of every route, socket upgrades included.
public struct ChatRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, once ``TokenAuthenticator`` (or the socket route) has recognised a token.
    public var caller: Caller?
    /// `scheme://host` the server's absolute URLs start with, when the operator fixed it
    /// (`PUBLIC_BASE_URL`); nil: taken from the request's Host header.
    public var publicBaseURL: String?
    /// Where the socket route leaves the socket it admitted, for the upgrade channel to run.
    let admittedSocket = AdmittedSocket()
    /// The IP address of the connection's peer (a proxy's, behind one).
    let peerAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// No route of the contract takes more than a few fields: bodies are bounded well below the default.
    public var maxUploadSize: Int { Limits.requestBodyBytes }

    /// The authenticated caller; only call behind ``TokenAuthenticator``.
    func requireUser() throws -> User {
        guard let caller else { throw APIError.notAuthenticated }
        return caller.user
    }
}
