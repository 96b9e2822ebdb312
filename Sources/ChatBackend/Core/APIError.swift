import HTTPTypes

/// An answer outside the happy path, in the contract's shape (DRF's): raised on any floor, turned
/// into an HTTP response in one place (`HTTP/JSONResponse.swift`), or into a socket refusal.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// The JSON body, or nil for the contract's empty-bodied answers.
    public var body: JSONValue?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, body: JSONValue?, headers: HTTPFields = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// `{"detail": message}`, DRF's shape for errors that are not about a field.
    public static func detail(_ status: HTTPResponse.Status, _ message: String) -> APIError {
        APIError(status, body: ["detail": .string(message)])
    }

    /// 400 with messages per field: `{"field": ["message", ...]}`.
    public static func validation(_ errors: [(String, [String])]) -> APIError {
        APIError(.badRequest, body: .object(errors.map { ($0.0, .array($0.1.map(JSONValue.string))) }))
    }

    /// 400 with one message not tied to a field.
    public static func nonField(_ message: String) -> APIError {
        validation([("non_field_errors", [message])])
    }

    /// No credentials given.
    public static let notAuthenticated = APIError(
        .unauthorized,
        body: ["detail": "Authentication credentials were not provided."],
        headers: [.wwwAuthenticate: "Token"]
    )

    /// A token that does not exist or was revoked.
    public static let invalidToken = APIError(
        .unauthorized, body: ["detail": "Invalid token."], headers: [.wwwAuthenticate: "Token"]
    )

    /// Too many requests of a kind from one client (DRF's throttling answer), with when to retry.
    public static func throttled(retryAfter: Duration) -> APIError {
        let seconds = max(1, Int(retryAfter.components.seconds) + (retryAfter.components.attoseconds > 0 ? 1 : 0))
        return APIError(
            .tooManyRequests,
            body: ["detail": .string("Request was throttled. Expected available in \(seconds) second\(seconds == 1 ? "" : "s").")],
            headers: [.retryAfter: String(seconds)]
        )
    }

    /// The server is at its limit for a kind of work (password hashing): retry shortly.
    public static func busy(retryAfterSeconds: Int) -> APIError {
        APIError(
            .serviceUnavailable,
            body: ["detail": "The server is busy; try again shortly."],
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }

    /// Unknown object.
    public static let notFound = detail(.notFound, "Not found.")

    /// A chat route used by someone who is not in the chat.
    public static let noAccess = APIError(.badRequest, body: ["error": "No access!"])

    /// An action on something the caller may see but not change (DRF's wording).
    public static let permissionDenied = detail(.forbidden, "You do not have permission to perform this action.")

    /// The contract's empty-bodied 400.
    public static let badRequest = APIError(.badRequest, body: nil)

    /// Method not allowed on an existing route.
    public static func methodNotAllowed(_ method: HTTPRequest.Method) -> APIError {
        detail(.methodNotAllowed, "Method \"\(method.rawValue)\" not allowed.")
    }
}
