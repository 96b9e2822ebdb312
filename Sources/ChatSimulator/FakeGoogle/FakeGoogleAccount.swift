/// A simulated Google account.
public struct FakeGoogleAccount: Sendable, Hashable {
    /// Google's stable id (`sub`).
    public var subject: String
    public var email: String
    /// Whether Google vouches for the e-mail.
    public var emailVerified: Bool
    /// The Workspace domain (`hd`), if any.
    public var hostedDomain: String?

    public init(subject: String, email: String, emailVerified: Bool = true, hostedDomain: String? = nil) {
        self.subject = subject
        self.email = email
        self.emailVerified = emailVerified
        self.hostedDomain = hostedDomain
    }
}

/// What a simulated ID token says, with every field a test may want to get wrong on purpose.
public struct FakeIDTokenClaims: Sendable {
    public var issuer = "https://accounts.google.com"
    public var audience: String
    public var issuedAt: Double
    public var expires: Double
    public var notBefore: Double?
    /// The value the client asked to see again (the web flow's `nonce`), if any.
    public var nonce: String?

    /// Claims for `audience`, issued now, valid for an hour.
    public init(audience: String, now: Double) {
        self.audience = audience
        self.issuedAt = now
        self.expires = now + 3600
    }
}

/// How a simulated ID token is signed: correctly, or in one of the ways an attacker would try.
public enum FakeSigning: Sendable {
    /// RS256 with the published key: a good token.
    case published
    /// RS256 with a key Google never published.
    case unpublishedKey
    /// RS256 with the published key, then the signature's bytes altered.
    case corruptedSignature
    /// `alg: none` and no signature.
    case none
    /// HS256 keyed with the published public key's PEM (the key-confusion attack).
    case hmacWithPublicKey
}
