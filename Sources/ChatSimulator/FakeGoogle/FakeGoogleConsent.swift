import Crypto
import Foundation
import Hummingbird

/// The fake issuer's stand-in for Google's consent page, in the implicit flow a browser app uses
/// for an ID token (`response_type=id_token`): the app sends the browser here with its client ID,
/// where to come back, a `state` and a `nonce`; the page asks which account (an e-mail: there is
/// no password, every account exists) and sends the browser back to
/// `redirect_uri#id_token=…&state=…`, the token signed by the issuer's published key for that
/// client ID, carrying the nonce.
///
/// As Google does, it refuses a request without a nonce, of another response type, or coming back
/// anywhere but an `http(s)` address; it registers no redirect addresses, so any is accepted.
struct FakeGoogleConsent {
    /// Where Google serves its consent page.
    static let path = "/o/oauth2/v2/auth"
    /// The longest e-mail accepted (RFC 5321's path limit).
    static let maximumEmailLength = 254

    let signer: FakeGoogleSigner

    /// The answer to a consent request: the page, the way back with a token, or a 400 naming the
    /// first thing wrong.
    func answer(_ query: Parameters) -> Response {
        let value = { (name: String) in query[name[...]].map(String.init) }
        guard value("response_type") == "id_token" else { return refusal("response_type must be id_token") }
        guard let clientID = value("client_id"), !clientID.isEmpty else { return refusal("client_id is missing") }
        guard let nonce = value("nonce"), !nonce.isEmpty else { return refusal("nonce is required with response_type=id_token") }
        guard let redirect = value("redirect_uri"), let back = URLComponents(string: redirect),
            ["http", "https"].contains(back.scheme?.lowercased() ?? ""), back.host?.isEmpty == false
        else { return refusal("redirect_uri must be an http(s) address") }

        guard let email = value("email") else { return page(query, loginHint: value("login_hint") ?? "") }
        guard email.count <= Self.maximumEmailLength, email.firstIndex(of: "@").map({ $0 != email.startIndex && $0 != email.index(before: email.endIndex) }) == true
        else { return page(query, loginHint: email, error: "Enter an e-mail address, like someone@example.com.") }
        do {
            var claims = FakeIDTokenClaims(audience: clientID, now: Date().timeIntervalSince1970)
            claims.nonce = nonce
            let token = try signer.idToken(for: Self.account(email: email), claims: claims)
            var fragment = URLComponents()
            fragment.queryItems = [URLQueryItem(name: "id_token", value: token)] + (value("state").map { [URLQueryItem(name: "state", value: $0)] } ?? [])
            var location = back
            location.fragment = nil
            let address = (location.string ?? redirect) + "#" + (fragment.percentEncodedQuery ?? "")
            return Response(status: .found, headers: [.location: address, .cacheControl: "no-store"])
        } catch {
            return refusal("the token could not be signed: \(error)")
        }
    }

    /// The simulated account of an e-mail: the same subject every time, as Google keeps one per
    /// person, and a verified e-mail.
    static func account(email: String) -> FakeGoogleAccount {
        let digest = SHA256.hash(data: Data(email.lowercased().utf8))
        // Google's subjects are decimal; 21 digits of the digest look like one.
        let subject = digest.prefix(9).reduce(into: "1") { $0 += String(format: "%02d", Int($1) % 100) }
        return FakeGoogleAccount(subject: subject, email: email)
    }

    /// The consent page: a form asking for the e-mail, coming back here with the request's fields.
    private func page(_ query: Parameters, loginHint: String, error: String? = nil) -> Response {
        let kept = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt"]
        let hidden = kept.compactMap { name in
            query[name[...]].map { #"<input type="hidden" name="\#(name)" value="\#(HTML.escape(String($0)))">"# }
        }
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Fake Google sign-in</title></head>
            <body>
            <h1>Fake Google sign-in</h1>
            <p>chat-sim's stand-in for Google: any e-mail signs in, with no password.
            Signing in to <code>\(HTML.escape(query["client_id"].map(String.init) ?? ""))</code>.</p>
            <form method="get" action="\(Self.path)">
            \(hidden.joined(separator: "\n"))
            <label>E-mail <input id="fake-google-email" name="email" type="email" value="\(HTML.escape(loginHint))" required></label>
            <button id="fake-google-continue" type="submit">Continue</button>
            </form>
            \(error.map { #"<p id="fake-google-error">\#(HTML.escape($0))</p>"# } ?? "")
            </body></html>
            """
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    private func refusal(_ reason: String) -> Response {
        Response(
            status: .badRequest,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "invalid_request: \(reason)\n"))
        )
    }
}
