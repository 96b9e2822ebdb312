import Foundation
import Hummingbird

/// DRF's limit/offset pagination: `?limit=&offset=`, answered as `{"count", "next", "previous", "results"}`.
struct Pagination {
    let limit: Int
    let offset: Int
    private let baseURL: String
    private let otherQuery: [(String, String)]

    /// Reads `limit` and `offset` as DRF does: a missing or malformed value falls back to the default,
    /// and the limit is capped, so no query asks the database for an unbounded page.
    init(_ request: Request, context: ChatRequestContext) {
        let query = request.uri.queryParameters
        let limit = query["limit"].flatMap { Int(String($0)) }.flatMap { $0 > 0 ? $0 : nil } ?? Limits.defaultPageSize
        self.limit = min(limit, Limits.maximumPageSize)
        self.offset = max(query["offset"].flatMap { Int(String($0)) } ?? 0, 0)
        self.baseURL = Self.absoluteBase(request, context) + URLText.path(request.uri.path)
        // Kept decoded (Hummingbird decodes values, not keys) and encoded again when a link is
        // written, as DRF does, so a link is a valid URL whatever the client's query held.
        self.otherQuery = query.map { (URLText.decoded(String($0.key)), String($0.value)) }
            .filter { $0.0 != "limit" && $0.0 != "offset" }
    }

    /// The answer for one page: 204 when the whole list is empty, as the original.
    func response<Item>(_ page: Page<Item>, render: (Item) -> JSONValue) -> Response {
        guard page.total > 0 else { return .empty(.noContent) }
        // `offset < total - limit`, not `offset + limit < total`: any offset a client sends (up to
        // Int.max) must not overflow, which would crash the whole server.
        let next = offset < page.total - limit ? url(offset: offset + limit) : nil
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
        return baseURL + "?" + parameters.map { URLText.queryComponent($0.0) + "=" + URLText.queryComponent($0.1) }.joined(separator: "&")
    }

    /// `scheme://host` for the absolute URLs the contract uses: `PUBLIC_BASE_URL` when set (so a
    /// forged Host header cannot put another site in links and e-mails), else the request's, as
    /// the client addressed the server (honouring a proxy's `X-Forwarded-Proto`).
    static func absoluteBase(_ request: Request, _ context: ChatRequestContext) -> String {
        if let fixed = context.publicBaseURL { return fixed }
        let scheme = request.headers[.init("X-Forwarded-Proto")!] == "https" ? "https" : "http"
        let host = request.head.authority ?? "localhost"
        return "\(scheme)://\(host)"
    }
}

/// Text made safe to put in a URL the server writes (pagination links).
enum URLText {
    /// RFC 3986's unreserved characters: the only ones a query key or value keeps as they are.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// What a path segment may hold besides percent escapes: unreserved, sub-delims, `:`, `@` and `/`.
    private static let pathCharacters = unreserved.union(CharacterSet(charactersIn: "!$&'()*+,;=:@/"))

    /// A query key or value, percent-encoded.
    static func queryComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A percent-encoded key, decoded; kept as it is when it is not valid percent-encoding.
    static func decoded(_ text: String) -> String {
        text.removingPercentEncoding ?? text
    }

    /// A request path as it arrived, with what a URL path may not hold (spaces, backslashes,
    /// control characters, raw non-ASCII, a `%` that starts no escape) percent-encoded; valid
    /// escapes are kept, so `%2F` stays an escaped slash.
    static func path(_ raw: String) -> String {
        let bytes = Array(raw.utf8)
        var output = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) {
                output.unicodeScalars.append(contentsOf: bytes[index...(index + 2)].map { Unicode.Scalar($0) })
                index += 3
                continue
            }
            if byte < 0x80, pathCharacters.contains(Unicode.Scalar(byte)) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += String(format: "%%%02X", byte)
            }
            index += 1
        }
        return output
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
