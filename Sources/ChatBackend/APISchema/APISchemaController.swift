import Hummingbird
import NIOCore

/// `/apischema/`: the API's OpenAPI document, as YAML and as JSON, and a page that shows it to
/// people. Public: no route needs a token, as the original's `apischema/` did not.
struct APISchemaController {
    /// Registers `/apischema/`, `/apischema/openapi.json` and `/apischema/openapi.yaml` on `group`.
    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.get("/", use: page)
        group.get("openapi.json", use: json)
        group.get("openapi.yaml", use: yaml)
    }

    /// The documentation page.
    @Sendable func page(_ request: Request, context: ChatRequestContext) async throws -> Response {
        Self.text(APIDocsPage.html, contentType: "text/html; charset=utf-8")
    }

    /// The document as JSON.
    @Sendable func json(_ request: Request, context: ChatRequestContext) async throws -> Response {
        switch OpenAPIDocument.json {
        case .success(let text):
            return Self.text(text, contentType: "application/json")
        case .failure(let error):
            // Only a malformed edit of the document gets here, and APISchemaTests fails on it first.
            context.logger.error("the OpenAPI document has no JSON form", metadata: ["error": "\(error)"])
            throw APIError.detail(.internalServerError, "A server error occurred.")
        }
    }

    /// The document as written, in YAML.
    @Sendable func yaml(_ request: Request, context: ChatRequestContext) async throws -> Response {
        Self.text(OpenAPIDocument.yaml, contentType: "application/yaml; charset=utf-8")
    }

    /// A 200 carrying `text` as `contentType`.
    private static func text(_ text: String, contentType: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
