import Hummingbird
import NIOCore

extension Response {
    /// A JSON answer with the given status.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized))
        )
    }

    /// An answer with no body, as the contract gives for 201 invitations, 204 empty lists and others.
    static func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentLength: "0"])
    }
}

extension HTTPResponse.Status {
    /// 208, which the original answers to an invitation accepted twice (HTTPTypes has no name for it).
    static let alreadyReported208 = HTTPResponse.Status(code: 208, reasonPhrase: "Already Reported")
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = body.map { Response.json($0, status: status) } ?? .empty(status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension Response {
    /// The body's bytes, for the small answers that are written outside the router (socket
    /// refusals) or read back (readiness checks, tests). Nothing of a failing body is kept.
    func collectedBody() async -> ByteBuffer {
        let collector = BodyCollector()
        try? await body.write(collector)
        return collector.collected.buffer
    }
}

/// Keeps a response body in memory.
private struct BodyCollector: ResponseBodyWriter {
    /// Shared with the caller, as the writer itself is consumed by the body.
    final class Collected {
        var buffer = ByteBuffer()
    }

    let collected = Collected()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collected.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

