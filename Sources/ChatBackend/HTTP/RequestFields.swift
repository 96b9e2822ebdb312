import Foundation
import Hummingbird

/// The JSON object of a request body, read field by field with DRF's messages, collecting every
/// problem before answering so the client sees them all at once.
struct RequestFields {
    private let object: JSONValue
    private(set) var errors: [(String, [String])] = []

    /// Reads the body as a JSON object; an empty body counts as `{}` (DRF does the same).
    ///
    /// A body must say it is JSON (`Content-Type: application/json`), or it is refused with 415
    /// before anything else happens: a form or `text/plain` post is what a page on another site can
    /// make a visitor's browser send without asking, and it must not reach the password hashing.
    static func read(_ request: Request, context: ChatRequestContext) async throws -> RequestFields {
        var request = request
        let contentType = request.headers[.contentType]
        if let contentType, !isJSON(contentType) { throw unsupportedMediaType(contentType) }
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return RequestFields(object: .object([])) }
        guard contentType != nil else { throw unsupportedMediaType("") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw APIError.detail(.badRequest, "JSON parse error: the body is not valid JSON.")
        }
        guard case .object = value else {
            throw APIError.nonField("Invalid data. Expected a dictionary.")
        }
        return RequestFields(object: value)
    }

    /// Reads the body of a route whose every bad request is the contract's empty 400 (the original
    /// answers those routes that way), so a body that is not a JSON object gets it too, not a JSON 400.
    static func readAnsweringEmptyBadRequest(_ request: Request, context: ChatRequestContext) async throws -> RequestFields {
        do {
            return try await read(request, context: context)
        } catch let error as APIError where error.status == .badRequest {
            throw APIError.badRequest
        }
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`).
    private static func isJSON(_ contentType: String) -> Bool {
        contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// DRF's answer to a body it has no parser for.
    private static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError.detail(.unsupportedMediaType, "Unsupported media type \"\(contentType.prefix(100))\" in request.")
    }

    private init(object: JSONValue) {
        self.object = object
    }

    /// A required string field, trimmed of nothing, at most `maxLength` characters.
    mutating func string(_ name: String, maxLength: Int) -> String? {
        switch object[name] {
        case nil, .null?:
            fail(name, "This field is required.")
        case .string(let value)?:
            if value.isEmpty {
                fail(name, "This field may not be blank.")
            } else if value.count > maxLength {
                fail(name, "Ensure this field has no more than \(maxLength) characters.")
            } else if TextRules.hasForbiddenControlCharacter(value) {
                fail(name, TextRules.controlCharacterMessage)
            } else {
                return value
            }
        default:
            fail(name, "Not a valid string.")
        }
        return nil
    }

    /// An optional string field: nil when absent, an error when present but invalid.
    mutating func optionalString(_ name: String, maxLength: Int) -> String? {
        switch object[name] {
        case nil, .null?: nil
        default: string(name, maxLength: maxLength)
        }
    }

    /// A required UUID field.
    mutating func uuid(_ name: String) -> UUID? {
        guard let text = string(name, maxLength: 64) else { return nil }
        guard let uuid = UUID(uuidString: text) else {
            fail(name, "Must be a valid UUID.")
            return nil
        }
        return uuid
    }

    /// The raw value of a field.
    subscript(name: String) -> JSONValue? {
        object[name]
    }

    /// Records a problem with a field.
    mutating func fail(_ name: String, _ message: String) {
        if let index = errors.firstIndex(where: { $0.0 == name }) {
            errors[index].1.append(message)
        } else {
            errors.append((name, [message]))
        }
    }

    /// Throws the collected problems as one 400, if there are any.
    func validate() throws {
        if !errors.isEmpty { throw APIError.validation(errors) }
    }
}
