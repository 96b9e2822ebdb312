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
        try Self.document(OpenAPIDocument.json, contentType: "application/json", context: context)
    }

    /// The document as written, in YAML.
    @Sendable func yaml(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.document(OpenAPIDocument.yaml, contentType: "application/yaml; charset=utf-8", context: context)
    }

    /// A form of the document, or a 500 when it could not be read (a malformed edit or a missing
    /// resource, which APISchemaTests catches first).
    private static func document(_ form: Result<String, any Error>, contentType: String, context: ChatRequestContext) throws -> Response {
        switch form {
        case .success(let text):
            return Self.text(text, contentType: contentType)
        case .failure(let error):
            context.logger.error("the OpenAPI document cannot be served", metadata: ["error": "\(error)"])
            throw APIError.detail(.internalServerError, "A server error occurred.")
        }
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
