import Foundation
import Hummingbird
import NIOCore

/// `/apischema/`: the API's OpenAPI document, as YAML and as JSON, and a page that shows it to
/// people, with the Swagger UI files that page loads. Public: no route needs a token, as the
/// original's `apischema/` did not.
struct APISchemaController {
    /// Registers `/apischema/`, `/apischema/openapi.json`, `/apischema/openapi.yaml`, the sockets'
    /// `/apischema/asyncapi.json` and `/apischema/asyncapi.yaml`, and `/apischema/swagger-ui/{file}`
    /// on `group`.
    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.get("/", use: page)
        group.get("openapi.json", use: json)
        group.get("openapi.yaml", use: yaml)
        group.get("asyncapi.json", use: asyncJSON)
        group.get("asyncapi.yaml", use: asyncYAML)
        group.get("swagger-ui/{file}", use: swaggerUI)
    }

    /// The documentation page; `no-cache`, so a new release's page (and the asset URLs it names,
    /// which carry Swagger UI's version) shows at once.
    @Sendable func page(_ request: Request, context: ChatRequestContext) async throws -> Response {
        var response = Self.text(APIDocsPage.html, contentType: "text/html; charset=utf-8")
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    /// One of Swagger UI's files. Cached for a day, then revalidated by its entity tag (a 304 costs
    /// a few bytes); the page's `?v=` query changes with the release, so an upgrade need not wait.
    @Sendable func swaggerUI(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try SwaggerUIAssets.files.response(
            for: context.parameters.get("file"), request: request, headers: [.cacheControl: "public, max-age=86400"], logger: context.logger
        )
    }

    /// The document as JSON.
    @Sendable func json(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.document(OpenAPIDocument.json, contentType: "application/json", context: context)
    }

    /// The document as written, in YAML.
    @Sendable func yaml(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.document(OpenAPIDocument.yaml, contentType: "application/yaml; charset=utf-8", context: context)
    }

    /// The sockets' AsyncAPI document as JSON.
    @Sendable func asyncJSON(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.document(AsyncAPIDocument.json, contentType: "application/json", context: context)
    }

    /// The sockets' AsyncAPI document as written, in YAML.
    @Sendable func asyncYAML(_ request: Request, context: ChatRequestContext) async throws -> Response {
        try Self.document(AsyncAPIDocument.yaml, contentType: "application/yaml; charset=utf-8", context: context)
    }

    /// A form of a document, or a 500 when it could not be read (a malformed edit or a missing
    /// resource, which APISchemaTests catches first).
    private static func document(_ form: Result<String, any Error>, contentType: String, context: ChatRequestContext) throws -> Response {
        switch form {
        case .success(let text):
            return Self.text(text, contentType: contentType)
        case .failure(let error):
            context.logger.error("an API document cannot be served", metadata: ["error": "\(error)"])
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
