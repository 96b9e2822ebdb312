import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A stand-in for Google's sign-in endpoints on a loopback port: the JWKS of its test keys, the
/// token-info route for access tokens, a consent page for browsers (``FakeGoogleConsent``), and a
/// signer of ID tokens for simulated accounts. Point the server's `GOOGLE_JWKS_URL`,
/// `GOOGLE_TOKENINFO_URL` and `GOOGLE_AUTH_URL` at it.
public final class FakeGoogleIssuer: Sendable {
    /// Signs the ID tokens.
    public let signer: FakeGoogleSigner
    /// The port it listens on.
    public let port: Int
    private let state: IssuerState
    private let services: ServiceGroup
    private let server: Task<Void, any Error>

    /// Where the issuer serves Google's keys and its token-info route.
    static let jwksPath = "/oauth2/v3/certs", tokenInfoPath = "/tokeninfo"

    /// `http://127.0.0.1:<port>/oauth2/v3/certs`
    public var jwksURL: String { "http://127.0.0.1:\(port)\(Self.jwksPath)" }
    /// `http://127.0.0.1:<port>/tokeninfo`
    public var tokenInfoURL: String { "http://127.0.0.1:\(port)\(Self.tokenInfoPath)" }
    /// `http://127.0.0.1:<port>/o/oauth2/v2/auth`: the consent page.
    public var authorizationURL: String { "http://127.0.0.1:\(port)\(FakeGoogleConsent.path)" }

    /// The settings that make a chat-server trust an issuer on `port` for `clientID`, as
    /// `NAME=value`; `port` may be a placeholder (`<port>`) for a how-to.
    public static func serverSettings(port: String, clientID: String) -> [String] {
        let base = "http://127.0.0.1:\(port)"
        return [
            "GOOGLE_CLIENT_IDS=\(clientID)", "GOOGLE_JWKS_URL=\(base)\(jwksPath)", "GOOGLE_TOKENINFO_URL=\(base)\(tokenInfoPath)",
            "GOOGLE_AUTH_URL=\(base)\(FakeGoogleConsent.path)",
        ]
    }

    /// Starts the issuer on a loopback port (0: a free one) with the keys in `keysDirectory`.
    /// With `stopOnSignals`, SIGINT and SIGTERM stop it (see ``untilStopped()``).
    public static func start(keysDirectory: URL, port: Int = 0, stopOnSignals: Bool = false) async throws -> FakeGoogleIssuer {
        let signer = try FakeGoogleSigner(keysDirectory: keysDirectory)
        let state = IssuerState()
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "fake-google")
        logger.logLevel = .warning
        let app = Application(
            router: routes(signer: signer, state: state),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "fake-google"),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) },
            logger: logger
        )
        let services = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: stopOnSignals ? [.sigterm, .sigint] : [], logger: logger)
        )
        let server = Task {
            // A server that cannot listen (the port is taken) ends the wait for its port.
            defer { portContinuation.finish() }
            try await services.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            guard case .failure(let error) = await server.result else { throw CancellationError() }
            throw SimulatorError("the fake Google issuer could not listen on 127.0.0.1:\(port): \(error)")
        }
        return FakeGoogleIssuer(signer: signer, port: port, state: state, services: services, server: server)
    }

    private init(signer: FakeGoogleSigner, port: Int, state: IssuerState, services: ServiceGroup, server: Task<Void, any Error>) {
        self.signer = signer
        self.port = port
        self.state = state
        self.services = services
        self.server = server
    }

    private static func routes(signer: FakeGoogleSigner, state: IssuerState) -> Router<BasicRequestContext> {
        let router = Router()
        router.get(RouterPath(jwksPath)) { _, _ -> Response in
            guard state.countJWKSRequest() else { return Response(status: .serviceUnavailable) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: signer.jwks(rotated: state.isRotated)))
            )
        }
        router.get(RouterPath(tokenInfoPath)) { request, _ -> Response in
            guard state.isAvailable else { return Response(status: .serviceUnavailable) }
            guard let token = request.uri.queryParameters["access_token"].map(String.init), let info = state.tokenInfo(token) else {
                return Response(
                    status: .badRequest, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_token","error_description":"Invalid Value"}"#))
                )
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: info)))
        }
        router.get(RouterPath(FakeGoogleConsent.path)) { request, _ -> Response in
            FakeGoogleConsent(signer: signer).answer(request.uri.queryParameters)
        }
        return router
    }

    // MARK: What tests and scenarios use

    /// A good ID token for `account`, for the app `audience`.
    public func idToken(for account: FakeGoogleAccount, audience: String) throws -> String {
        try signer.idToken(for: account, claims: FakeIDTokenClaims(audience: audience, now: Date().timeIntervalSince1970))
    }

    /// An access token for `account`, which the token-info route describes until `expiresIn` passes.
    public func accessToken(for account: FakeGoogleAccount, audience: String, expiresIn: Double = 3600) -> String {
        state.issueAccessToken(for: account, audience: audience, expiresIn: expiresIn)
    }

    /// Makes every route answer 503, as during a Google outage, or serve again.
    /// Publishes the second key too, as Google does when it rotates keys: tokens the signer makes
    /// with `.unpublishedKey` are then Google's.
    public func rotateKeys() {
        state.rotate()
    }

    public func setAvailable(_ available: Bool) {
        state.setAvailable(available)
    }

    /// How many times the JWKS was asked for.
    public var jwksRequests: Int { state.jwksRequests }

    /// Returns once the issuer has stopped (a signal, when started with `stopOnSignals`).
    public func untilStopped() async throws {
        try await server.value
    }

    /// Stops serving.
    public func stop() async {
        await services.triggerGracefulShutdown()
        _ = try? await server.value
    }
}

/// What the issuer's routes share: availability, a JWKS request count, the access tokens issued.
private final class IssuerState: Sendable {
    private struct Grant {
        let account: FakeGoogleAccount
        let audience: String
        let expires: Double
    }

    private struct Fields {
        var available = true
        var rotated = false
        var jwksRequests = 0
        var grants: [String: Grant] = [:]
    }

    private let fields = Mutex(Fields())

    var isAvailable: Bool { fields.withLock { $0.available } }
    var isRotated: Bool { fields.withLock { $0.rotated } }

    func rotate() {
        fields.withLock { $0.rotated = true }
    }
    var jwksRequests: Int { fields.withLock { $0.jwksRequests } }

    func setAvailable(_ available: Bool) {
        fields.withLock { $0.available = available }
    }

    /// Counts a JWKS request; false when the issuer is "down".
    func countJWKSRequest() -> Bool {
        fields.withLock {
            $0.jwksRequests += 1
            return $0.available
        }
    }

    func issueAccessToken(for account: FakeGoogleAccount, audience: String, expiresIn: Double) -> String {
        let token = "ya29.fake-" + UUID().uuidString.lowercased()
        fields.withLock { $0.grants[token] = Grant(account: account, audience: audience, expires: Date().timeIntervalSince1970 + expiresIn) }
        return token
    }

    /// Google's token-info answer for an access token, or nil when it does not know the token.
    func tokenInfo(_ token: String) -> String? {
        guard let grant = fields.withLock({ $0.grants[token] }) else { return nil }
        let expiresIn = Int(grant.expires - Date().timeIntervalSince1970)
        guard expiresIn > 0 else { return nil }
        var info: [String: Any] = [
            "aud": grant.audience, "azp": grant.audience, "sub": grant.account.subject, "email": grant.account.email,
            "email_verified": grant.account.emailVerified ? "true" : "false", "expires_in": String(expiresIn),
            "scope": "openid email profile",
        ]
        if let domain = grant.account.hostedDomain { info["hd"] = domain }
        return (try? JSONSerialization.data(withJSONObject: info)).flatMap { String(data: $0, encoding: .utf8) }
    }
}
