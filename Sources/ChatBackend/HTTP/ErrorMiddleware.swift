import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Turns every error that is not already an ``APIError`` into one, so no answer leaves the
/// server outside the contract's shape, and no internal detail leaks into a response.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw Self.translate(error, method: request.method)
        } catch is NIOTooManyBytesError {
            throw APIError.detail(.contentTooLarge, "Request body too large.")
        } catch let error where Self.isClientGone(error) {
            // The client's doing (it closed or reset the connection mid-request), not the server's.
            context.logger.debug("request cut short by the client", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError.detail(.badRequest, "The request could not be read to its end.")
        } catch let error as DatabaseUnavailableError {
            context.logger.warning("answering 503", metadata: ["error": "\(error)"])
            throw APIError.detail(.serviceUnavailable, "The service is temporarily unavailable; try again shortly.")
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw APIError.detail(.internalServerError, "A server error occurred.")
        }
    }

    /// Whether reading the request failed because its connection was closed or reset: a body cut
    /// short by a closed connection reaches the body's reader as NIO's parse error (`invalidEOFState`),
    /// a reset as an `IOError`, and a read after the close as a `ChannelError`. No other connection
    /// lets these through: the server's own clients wrap theirs (Google sign-in's in
    /// `GoogleSignInError`, the database's in its driver's errors or `DatabaseUnavailableError`).
    private static func isClientGone(_ error: any Error) -> Bool {
        switch error {
        case is HTTPParserError, is IOError: true
        case let error as ChannelError: [.ioOnClosedChannel, .eof, .inputClosed, .outputClosed, .alreadyClosed].contains(error)
        default: false
        }
    }

    private static func translate(_ error: HTTPError, method: HTTPRequest.Method) -> APIError {
        switch error.status {
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed(method)
        case .contentTooLarge: .detail(.contentTooLarge, "Request body too large.")
        default: .detail(error.status, error.body ?? error.status.reasonPhrase)
        }
    }
}
