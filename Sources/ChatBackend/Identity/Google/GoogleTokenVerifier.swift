import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore

/// Checks what a client got from Google: an ID token offline (RS256 against Google's keys, then
/// issuer, audience, times, e-mail), or an access token with Google's token-info endpoint.
public struct GoogleTokenVerifier: Sendable {
    private let settings: GoogleSettings
    private let httpClient: HTTPClient
    private let keySet: GoogleKeySet

    public init(settings: GoogleSettings, httpClient: HTTPClient = .shared) {
        self.settings = settings
        self.httpClient = httpClient
        self.keySet = GoogleKeySet(settings: settings, httpClient: httpClient)
    }

    // MARK: ID tokens

    /// The identity in a Google ID token (a JWT), or why it is refused.
    public func verify(idToken: String) async throws -> GoogleIdentity {
        let header = try Self.header(of: idToken)
        guard header.alg == "RS256" else {
            throw GoogleSignInError.rejected("The Google token must be signed with RS256, not \(header.alg ?? "nothing").")
        }
        guard let keyID = header.kid else { throw GoogleSignInError.rejected("The Google token names no signing key.") }
        let keys = try await keySet.keys(containing: keyID)
        let claims: GoogleIDClaims
        do {
            claims = try await keys.verify(idToken, as: GoogleIDClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw GoogleSignInError.rejected("The Google token's signature is invalid.")
        } catch {
            throw GoogleSignInError.rejected("The Google token is malformed.")
        }
        guard let issuer = claims.iss, GoogleSettings.issuers.contains(issuer) else {
            throw GoogleSignInError.rejected("The Google token was not issued by Google.")
        }
        guard let audiences = claims.aud?.value, audiences.contains(where: settings.clientIDs.contains) else {
            throw GoogleSignInError.rejected("The Google token was issued for another application.")
        }
        try checkTimes(expires: claims.exp, issued: claims.iat, notBefore: claims.nbf)
        if let domain = settings.hostedDomain, claims.hd != domain {
            throw GoogleSignInError.rejected("Only accounts of \(domain) may sign in.")
        }
        return try identity(subject: claims.sub, email: claims.email, verified: claims.email_verified?.value)
    }

    private func checkTimes(expires: Double?, issued: Double?, notBefore: Double?) throws {
        let now = Date().timeIntervalSince1970
        guard let expires else { throw GoogleSignInError.rejected("The Google token has no expiry.") }
        guard now <= expires + settings.leewaySeconds else { throw GoogleSignInError.rejected("The Google token has expired.") }
        if let issued, issued > now + settings.leewaySeconds {
            throw GoogleSignInError.rejected("The Google token is not valid yet.")
        }
        if let notBefore, notBefore > now + settings.leewaySeconds {
            throw GoogleSignInError.rejected("The Google token is not valid yet.")
        }
    }

    private func identity(subject: String?, email: String?, verified: Bool?) throws -> GoogleIdentity {
        guard let subject, !subject.isEmpty, subject.count <= 255 else {
            throw GoogleSignInError.rejected("The Google token names no account.")
        }
        guard let email, EmailAddress.isValid(email), email.count <= Limits.emailCharacters else {
            throw GoogleSignInError.rejected("The Google token carries no e-mail address; ask for the email scope.")
        }
        guard verified == true else {
            throw GoogleSignInError.rejected("Google has not verified this account's e-mail address.")
        }
        return GoogleIdentity(subject: subject, email: email, emailVerified: true)
    }

    /// The JOSE header, read without trusting it, to refuse `none`, HS256 and missing key ids early.
    private static func header(of token: String) throws -> (alg: String?, kid: String?) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URL: String(parts[0])),
            let header = try? JSONValue.parse(Array(data)), case .object = header
        else { throw GoogleSignInError.rejected("The Google token is malformed.") }
        return (header["alg"]?.stringValue, header["kid"]?.stringValue)
    }

    // MARK: Access tokens

    /// The identity behind a Google access token, as Google's token-info endpoint describes it.
    public func verify(accessToken: String) async throws -> GoogleIdentity {
        guard !accessToken.isEmpty, accessToken.count <= Limits.googleAccessTokenCharacters,
            var url = URLComponents(string: settings.tokenInfoURL)
        else { throw GoogleSignInError.rejected("The Google access token is malformed.") }
        url.queryItems = (url.queryItems ?? []) + [URLQueryItem(name: "access_token", value: accessToken)]
        guard let address = url.string else { throw GoogleSignInError.rejected("The Google access token is malformed.") }
        let info = try await fetchTokenInfo(address)
        let audiences = [info["aud"]?.stringValue, info["azp"]?.stringValue].compactMap { $0 }
        guard audiences.contains(where: settings.clientIDs.contains) else {
            throw GoogleSignInError.rejected("The Google token was issued for another application.")
        }
        if let expiresIn = info["expires_in"].flatMap(Self.number), expiresIn <= 0 {
            throw GoogleSignInError.rejected("The Google token has expired.")
        }
        if let domain = settings.hostedDomain, info["hd"]?.stringValue != domain {
            throw GoogleSignInError.rejected("Only accounts of \(domain) may sign in.")
        }
        let verified = info["email_verified"].flatMap(Self.boolean)
        return try identity(subject: info["sub"]?.stringValue, email: info["email"]?.stringValue, verified: verified)
    }

    private func fetchTokenInfo(_ address: String) async throws -> JSONValue {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await httpClient.execute(HTTPClientRequest(url: address), timeout: .seconds(settings.requestTimeoutSeconds))
            body = try await response.body.collect(upTo: 1 << 16)
        } catch {
            throw GoogleSignInError.unavailable("token-info failed: \(error)")
        }
        switch response.status.code {
        case 200: break
        case 400..<500: throw GoogleSignInError.rejected("Google does not recognise this access token.")
        default: throw GoogleSignInError.unavailable("token-info answered \(response.status.code)")
        }
        guard let info = try? JSONValue.parse(body.readableBytesView), case .object = info else {
            throw GoogleSignInError.unavailable("token-info answered something that is not JSON")
        }
        return info
    }

    /// Google writes numbers and booleans as strings in token-info answers.
    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let int): Double(int)
        case .double(let double): double
        case .string(let text): Double(text)
        default: nil
        }
    }

    private static func boolean(_ value: JSONValue) -> Bool? {
        switch value {
        case .bool(let bool): bool
        case .string(let text): text == "true" ? true : (text == "false" ? false : nil)
        default: nil
        }
    }
}

/// The claims of a Google ID token that sign-in reads. Checked by ``GoogleTokenVerifier`` against
/// the server's settings, after jwt-kit has checked the signature.
struct GoogleIDClaims: JWTPayload {
    var iss: String?
    var aud: AudienceClaim?
    var sub: String?
    var exp: Double?
    var iat: Double?
    var nbf: Double?
    var email: String?
    var email_verified: FlexibleBool?
    var hd: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        // Intentionally empty: the claims depend on settings this type cannot see, and are checked
        // one by one in GoogleTokenVerifier so each failure gets its own message.
    }
}

/// A boolean that Google sometimes writes as `"true"`.
struct FlexibleBool: Codable, Sendable {
    let value: Bool

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            value = bool
        } else {
            value = try container.decode(String.self) == "true"
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

extension Data {
    /// Decodes base64url without padding, as JWTs use it.
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
