import Crypto
import Foundation
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

    /// The files served, by name, with their media types (RFC 9239 names JavaScript `text/javascript`).
    static let mediaTypes: [String: String] = [
        "index.html": "text/html; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8",
    ]

    /// One file as served: its bytes, media type and a strong entity tag of its contents.
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        let entityTag: String
    }

    /// Every file of ``mediaTypes``, read from the resource bundle once. A missing resource is kept
    /// as the failure rather than trapped, so the server still serves everything else (and
    /// `WebAppTests` catches it first).
    static let assets: Result<[String: Asset], any Error> = Result {
        var assets: [String: Asset] = [:]
        for (name, contentType) in mediaTypes {
            let file = URL(fileURLWithPath: name)
            guard let url = Bundle.module.url(
                forResource: file.deletingPathExtension().lastPathComponent,
                withExtension: file.pathExtension,
                subdirectory: "WebApp"
            ) else {
                throw ConfigurationError("the resource WebApp/\(name) is missing from ChatBackend's bundle")
            }
            let data = try Data(contentsOf: url)
            let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(bytes: data), contentType: contentType, entityTag: "\"\(digest)\"")
        }
        return assets
    }

    /// The app's page.
    @Sendable func page(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.serve("index.html", request: request, context: context)
    }

    /// One of the app's files, by name; any other name is a 404.
    @Sendable func file(_ request: Request, context: ChatRequestContext) async throws -> Response {
        guard let name = context.parameters.get("file"), Self.mediaTypes[name] != nil else { throw APIError.notFound }
        return try Self.serve(name, request: request, context: context)
    }

    private static func serve(_ name: String, request: Request, context: ChatRequestContext) throws -> Response {
        let asset: Asset
        switch assets {
        case .success(let assets):
            guard let found = assets[name] else { throw APIError.notFound }
            asset = found
        case .failure(let error):
            context.logger.error("the web app's files cannot be served", metadata: ["error": "\(error)"])
            throw APIError.detail(.internalServerError, "A server error occurred.")
        }
        var headers: HTTPFields = [
            .cacheControl: "no-cache",
            .eTag: asset.entityTag,
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if let presented = request.headers[.ifNoneMatch], EntityTag.matches(presented, entityTag: asset.entityTag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.body))
    }
}
