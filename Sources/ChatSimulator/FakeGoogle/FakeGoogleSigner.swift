import Crypto
import Foundation
import _CryptoExtras

/// Signs ID tokens for simulated Google accounts with the test keys in `fixtures/google/`.
///
/// Tokens are assembled by hand (header, claims, RS256 signature) so that tests can also forge
/// every kind of bad token a real attacker would send.
public struct FakeGoogleSigner: Sendable {
    /// The published key, with the id the JWKS gives it.
    let published: (id: String, key: _RSA.Signing.PrivateKey)
    /// A key that never appears in the JWKS.
    let unpublished: (id: String, key: _RSA.Signing.PrivateKey)

    /// Loads `issuer-key-1.pem` (published) and `issuer-key-2.pem` (unpublished) from a folder.
    public init(keysDirectory: URL) throws {
        let (first, second): (String, String)
        do {
            first = try String(contentsOf: keysDirectory.appendingPathComponent("issuer-key-1.pem"), encoding: .utf8)
            second = try String(contentsOf: keysDirectory.appendingPathComponent("issuer-key-2.pem"), encoding: .utf8)
        } catch {
            throw SimulatorError(
                "the fake Google issuer's test keys are not in \(keysDirectory.path) (issuer-key-1.pem, issuer-key-2.pem): "
                    + "run from the repository, or point --fixtures at its fixtures folder"
            )
        }
        published = ("fake-google-key-1", try _RSA.Signing.PrivateKey(pemRepresentation: first))
        unpublished = ("fake-google-key-2", try _RSA.Signing.PrivateKey(pemRepresentation: second))
    }

    /// The JWKS document Google would serve: the published key, and after a key rotation the
    /// second key too (which the signer's `.unpublishedKey` tokens then verify against).
    public func jwks(rotated: Bool = false) -> String {
        let keys = rotated ? [published, unpublished] : [published]
        return #"{"keys":["# + keys.map(Self.jwk).joined(separator: ",") + "]}"
    }

    private static func jwk(_ key: (id: String, key: _RSA.Signing.PrivateKey)) -> String {
        let primitives = (try? key.key.publicKey.getKeyPrimitives())
        let modulus = primitives.map { base64URL($0.modulus) } ?? ""
        let exponent = primitives.map { base64URL($0.publicExponent) } ?? ""
        return #"{"kty":"RSA","alg":"RS256","use":"sig","kid":"\#(key.id)","n":"\#(modulus)","e":"\#(exponent)"}"#
    }

    /// An ID token for `account` with `claims`, signed as `signing` says.
    public func idToken(for account: FakeGoogleAccount, claims: FakeIDTokenClaims, signing: FakeSigning = .published) throws -> String {
        var payload: [String: Any] = [
            "iss": claims.issuer, "aud": claims.audience, "azp": claims.audience, "sub": account.subject,
            "email": account.email, "email_verified": account.emailVerified,
            "iat": Int(claims.issuedAt), "exp": Int(claims.expires),
        ]
        if let notBefore = claims.notBefore { payload["nbf"] = Int(notBefore) }
        if let nonce = claims.nonce { payload["nonce"] = nonce }
        if let domain = account.hostedDomain { payload["hd"] = domain }
        let body = Self.base64URL(try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))

        switch signing {
        case .published, .corruptedSignature:
            let token = try sign(body: body, key: published)
            guard case .corruptedSignature = signing else { return token }
            var characters = Array(token)
            let index = characters.count - 10
            characters[index] = characters[index] == "A" ? "B" : "A"
            return String(characters)
        case .unpublishedKey:
            return try sign(body: body, key: unpublished)
        case .none:
            return Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + body + "."
        case .hmacWithPublicKey:
            let header = Self.base64URL(Data(#"{"alg":"HS256","kid":"\#(published.id)","typ":"JWT"}"#.utf8))
            let secret = SymmetricKey(data: Data(published.key.publicKey.pemRepresentation.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(body)".utf8), using: secret)
            return "\(header).\(body).\(Self.base64URL(Data(mac)))"
        }
    }

    private func sign(body: String, key: (id: String, key: _RSA.Signing.PrivateKey)) throws -> String {
        let header = Self.base64URL(Data(#"{"alg":"RS256","kid":"\#(key.id)","typ":"JWT"}"#.utf8))
        let input = Data("\(header).\(body)".utf8)
        let signature = try key.key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        return "\(header).\(body).\(Self.base64URL(signature.rawRepresentation))"
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
