import Hummingbird

/// Answers 405 with an `Allow` header, as Django does, when a path exists but not for the method
/// asked. Added after every route, so it only runs for requests no route matched (Hummingbird
/// wraps each route in the middleware added before it, and the not-found answer in all of them).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path components (`{name}` for captures) and its method.
    private let routes: [(components: [Substring], method: HTTPRequest.Method)]

    init(routes: [Router<Context>.RouteDescription]) {
        self.routes = routes.map { (components: $0.path.description.split(separator: "/"), method: $0.method) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path.split(separator: "/")
        let allowed = routes.filter { Self.matches($0.components, path) }.map(\.method.rawValue)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        var error = APIError.methodNotAllowed(request.method)
        error.headers[.allow] = Set(allowed).sorted().joined(separator: ", ")
        throw error
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { expected, actual in
            expected.hasPrefix("{") || expected == "*" || expected == actual
        }
    }
}
