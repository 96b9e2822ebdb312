import Hummingbird

/// DRF's limit/offset pagination: `?limit=&offset=`, answered as `{"count", "next", "previous", "results"}`.
struct Pagination {
    let limit: Int
    let offset: Int
    private let baseURL: String
    private let otherQuery: [(String, String)]

    /// Reads `limit` and `offset` as DRF does: a missing or malformed value falls back to the default,
    /// and the limit is capped, so no query asks the database for an unbounded page.
    init(_ request: Request) {
        let query = request.uri.queryParameters
        let limit = query["limit"].flatMap { Int(String($0)) }.flatMap { $0 > 0 ? $0 : nil } ?? Limits.defaultPageSize
        self.limit = min(limit, Limits.maximumPageSize)
        self.offset = max(query["offset"].flatMap { Int(String($0)) } ?? 0, 0)
        self.baseURL = Self.absoluteBase(request) + request.uri.path
        self.otherQuery = query.filter { $0.key != "limit" && $0.key != "offset" }.map { (String($0.key), String($0.value)) }
    }

    /// The answer for one page: 204 when the whole list is empty, as the original.
    func response<Item>(_ page: Page<Item>, render: (Item) -> JSONValue) -> Response {
        guard page.total > 0 else { return .empty(.noContent) }
        let next = offset + limit < page.total ? url(offset: offset + limit) : nil
        let previous: String? =
            offset <= 0 ? nil : (offset - limit <= 0 ? url(offset: nil) : url(offset: offset - limit))
        return .json([
            "count": .int(Int64(page.total)),
            "next": .string(next),
            "previous": .string(previous),
            "results": .array(page.items.map(render)),
        ])
    }

    private func url(offset: Int?) -> String {
        var parameters = otherQuery
        parameters.append(("limit", String(limit)))
        if let offset { parameters.append(("offset", String(offset))) }
        return baseURL + "?" + parameters.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `scheme://host` of the request, as the client addressed the server (honouring a proxy's
    /// `X-Forwarded-Proto`), for the absolute URLs the contract uses.
    static func absoluteBase(_ request: Request) -> String {
        let scheme = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        let host = request.head.authority ?? "localhost"
        return "\(scheme)://\(host)"
    }
}
