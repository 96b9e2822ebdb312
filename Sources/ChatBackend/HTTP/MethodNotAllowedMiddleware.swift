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
        let matching = routes.filter { Self.matches($0.components, path) }
        // The router matches a constant component before a capture and does not fall back, so
        // `PATCH mychats/` is unmatched although `PATCH {uuid}/` exists: only the most constant
        // patterns say which methods the path has.
        let mostConstant = matching.map { Self.constantCount($0.components) }.max() ?? 0
        let allowed = matching.filter { Self.constantCount($0.components) == mostConstant }.map(\.method.rawValue)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        var error = APIError.methodNotAllowed(request.method)
        error.headers[.allow] = Set(allowed).sorted().joined(separator: ", ")
        throw error
    }

    private static func constantCount(_ pattern: [Substring]) -> Int {
        pattern.filter { !$0.hasPrefix("{") && $0 != "*" }.count
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        pattern.count == path.count && zip(pattern, path).allSatisfy { expected, actual in
            expected.hasPrefix("{") || expected == "*" || expected == actual
        }
    }
}
