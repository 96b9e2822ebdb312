import Foundation
import Hummingbird

/// The `sessionid` cookie: the original back-end authenticated its sockets by the Django session
/// cookie its log-in set, and browser clients written for it open sockets with nothing else.
///
/// Its value is the token the same answer returns as `key`, so it names the same session: logging
/// out or changing the password revokes both at once. It is `HttpOnly` (no script reads it),
/// `SameSite=Lax`, `Path=/`, and `Secure` when `PUBLIC_BASE_URL` is https. The server accepts it
/// only on socket handshakes (REST routes read the `Authorization` header alone, so a cookie a
/// browser adds by itself can never act on the API), and only from pages of this server's own
/// origin (``checkOrigin(_:context:)``).
enum SessionCookie {
    /// The cookie's name, the original's.
    static let name = "sessionid"

    /// The `Set-Cookie` value that keeps `key` in the browser.
    static func setting(_ key: SecretKey, context: ChatRequestContext) -> String {
        "\(name)=\(key.text)" + attributes(context)
    }

    /// The `Set-Cookie` value that removes the cookie (log-out).
    static func clearing(context: ChatRequestContext) -> String {
        "\(name)=\"\"; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + attributes(context)
    }

    private static func attributes(_ context: ChatRequestContext) -> String {
        let secure = context.publicBaseURL?.lowercased().hasPrefix("https://") == true
        return "; Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// The value of the first `sessionid` cookie in the request's `Cookie` headers, if any.
    static func value(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                var value = parts[1].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                return value
            }
        }
        return nil
    }

    /// Refuses (403) a handshake authenticated by the cookie from a page of another site.
    ///
    /// A browser sends the cookie with a socket handshake whatever page opens it, so without this
    /// check any site a signed-in person visits could open sockets as them and read their chats
    /// (cross-site WebSocket hijacking). Browsers always send `Origin` on a handshake: its host
    /// must be this server's, as the request's `Host` names it or as `PUBLIC_BASE_URL` does. The
    /// scheme and port are not compared, as cookies are not scoped by them either: a page on
    /// another port of the same host is given the cookie anyway. A request without `Origin` comes
    /// from no browser page, so no other site can have made it.
    static func checkOrigin(_ request: Request, context: ChatRequestContext) throws {
        let origins = request.headers[values: .origin]
        guard !origins.isEmpty else { return }
        let ownHosts = [request.head.authority.flatMap { host(of: "http://\($0)") }, context.publicBaseURL.flatMap(host(of:))].compactMap { $0 }
        // Every Origin given must be ours: a second one cannot smuggle a foreign page through.
        for origin in origins {
            guard let presented = host(of: origin), ownHosts.contains(presented) else {
                throw APIError.detail(.forbidden, "A socket authenticated by the session cookie must be opened from this server's own pages (Origin).")
            }
        }
    }

    /// The host of an origin or URL (`scheme://host[:port]`), lowercased; nil when it has none
    /// (`null`, `file://`).
    static func host(of origin: String) -> String? {
        guard let components = URLComponents(string: origin), components.scheme != nil, let host = components.host?.lowercased(), !host.isEmpty else {
            return nil
        }
        return host
    }
}
