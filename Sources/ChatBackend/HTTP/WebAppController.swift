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
    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("/app/", use: page)
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

    /// One of the app's files, by name; any other name is a 404.
    @Sendable func file(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.files.response(for: context.parameters.get("file"), request: request, headers: Self.headers, logger: context.logger)
    }
}
