import Hummingbird

/// Puts the operator's `PUBLIC_BASE_URL` in every request's context, for the absolute URLs the
/// server writes (pagination links, participants, confirmation e-mails).
struct PublicBaseURLMiddleware: RouterMiddleware {
    typealias Context = ChatRequestContext
    let url: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.publicBaseURL = url
        return try await next(request, context)
    }
}
