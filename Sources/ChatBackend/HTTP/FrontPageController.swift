import Hummingbird
import NIOCore

/// `/`: a small page telling a person who opens the server what it is, with links to the API
/// documentation, the web app, and the health checks. Self-contained (no scripts, styles or
/// images from elsewhere); `no-cache`, so a new release's page shows at once.
struct FrontPageController {
    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("/", use: page)
        router.head("/", use: head)
    }

    @Sendable func page(_ request: Request, context: ChatRequestContext) async throws -> Response {
        Response(status: .ok, headers: Self.headers, body: ResponseBody(byteBuffer: ByteBuffer(string: Self.html)))
    }

    /// The page's headers, without its body.
    @Sendable func head(_ request: Request, context: ChatRequestContext) async throws -> Response {
        var headers = Self.headers
        headers[.contentLength] = String(Self.html.utf8.count)
        return Response(status: .ok, headers: headers)
    }

    static let headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"]

    /// The page's HTML. Its empty `data:` icon tells browsers there is none, so they do not ask for
    /// `/favicon.ico` and log its 404 as a console error.
    static let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>chat-server</title>
        <link rel="icon" href="data:,">
        <style>
        body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
        code { background: #f3f3f3; padding: 0 .2em; }
        li { margin: .3em 0; }
        </style>
        </head>
        <body>
        <h1>chat-server</h1>
        <p>A chat back-end: accounts, friends, private and group chats over a REST API, and live
        messages over WebSockets (<code>/ws/chat/&lt;uuid&gt;/?token=&lt;key&gt;</code>).</p>
        <ul>
        <li><a href="/apischema/">API documentation</a>: the contract, every route and socket frame
        (also as <a href="/apischema/openapi.yaml">OpenAPI YAML</a> and <a href="/apischema/openapi.json">JSON</a>)</li>
        <li><a href="/app/">Web app</a>: sign up or in, and chat</li>
        <li><a href="/healthz">/healthz</a>: the process serves requests</li>
        <li><a href="/readyz">/readyz</a>: this node should get new work</li>
        </ul>
        </body>
        </html>

        """
}
