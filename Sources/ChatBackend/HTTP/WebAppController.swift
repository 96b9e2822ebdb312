import HTTPTypes
import Hummingbird
import NIOCore

/// `/app/`: the web app, a chat client for people, served by the server itself. Three files, in
/// `WebApp/` beside this file (a resource of the ChatBackend target): `index.html`, `app.js` and
/// `app.css`; no build step, no framework, nothing from elsewhere. The app speaks only the public
/// API: the REST routes and the user socket `/ws/` (docs/web-app.md).
///
/// Every answer carries a strict Content-Security-Policy: scripts and styles from this server only
/// (no inline script or style), connections to this server and its sockets, no frames, no plugins.
/// The files are `no-cache` with an entity tag: a new release shows at once, an unchanged file
/// costs a 304.
struct WebAppController {
    /// What the page needs to offer "Sign in with Google": the client ID it signs in for and
    /// Google's consent page. Nil when Google sign-in is off: the page shows no button.
    struct GoogleSignIn: Sendable {
        let clientID: String
        let authorizationURL: String

        /// The first client ID of `settings` (the web app's); nil when there is none.
        init?(_ settings: GoogleSettings) {
            guard let clientID = settings.clientIDs.first else { return nil }
            self.clientID = clientID
            self.authorizationURL = settings.authorizationURL
        }
    }

    let google: GoogleSignIn?

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("/app/", use: page)
        router.get("/app/config.json", use: configuration)
        router.get("/app/{file}", use: file)
    }

    /// The policy of every `/app/` answer.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The app's files (`WebApp/`), read once.
    static let files = BundledFiles(folder: "WebApp", mediaTypes: [
        "index.html": "text/html; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8",
    ])

    /// What every `/app/` answer carries: revalidated each time, and the policies.
    static let headers: HTTPFields = [
        .cacheControl: "no-cache",
        .contentSecurityPolicy: contentSecurityPolicy,
        .xContentTypeOptions: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    /// The app's page.
    @Sendable func page(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.files.response(for: "index.html", request: request, headers: Self.headers, logger: context.logger)
    }

    /// What the page asks before it shows the sign-in forms: `{"google": {"client_id",
    /// "authorization_url"}}`, or `{"google": null}` when Google sign-in is off.
    @Sendable func configuration(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let google: JSONValue = google.map {
            .object([("client_id", .string($0.clientID)), ("authorization_url", .string($0.authorizationURL))])
        } ?? .null
        var response = Response.json(.object([("google", google)]))
        response.headers.append(contentsOf: Self.headers)
        return response
    }

    /// One of the app's files, by name; any other name is a 404.
    @Sendable func file(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.files.response(for: context.parameters.get("file"), request: request, headers: Self.headers, logger: context.logger)
    }
}
