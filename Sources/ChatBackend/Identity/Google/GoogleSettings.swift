/// How the server checks what Google gave a client.
public struct GoogleSettings: Sendable {
    /// The OAuth client IDs of the apps allowed to sign in (a token's audience must be one of them).
    /// Empty: Google sign-in is off.
    public var clientIDs: [String] = []
    /// Where Google publishes the keys that sign ID tokens.
    public var jwksURL = "https://www.googleapis.com/oauth2/v3/certs"
    /// Where access tokens are checked.
    public var tokenInfoURL = "https://oauth2.googleapis.com/tokeninfo"
    /// Google's consent page, where the web app sends a person to sign in (its "Sign in with
    /// Google" button, for the first client ID).
    public var authorizationURL = "https://accounts.google.com/o/oauth2/v2/auth"
    /// When set, only accounts of this Google Workspace domain (`hd` claim) may sign in.
    public var hostedDomain: String?
    /// Tolerated clock difference with Google for `exp`, `iat` and `nbf`.
    public var leewaySeconds: Double = 60
    /// Shortest time between two JWKS fetches caused by tokens naming an unknown key: a freshly
    /// rotated key is fetched within it, and forged key ids cannot make the server hammer Google.
    public var minimumRefetchSeconds: Double = 5
    /// Shortest time between two JWKS fetches after one failed (Google unreachable): sign-ins
    /// answer 503 meanwhile, and work again within it once Google is back.
    public var failedFetchRetrySeconds: Double = 1
    /// Longest wait for Google: past it, sign-in answers 503 instead of hanging.
    public var requestTimeoutSeconds: Int64 = 3

    public init() {}

    /// Google's own issuers; ID tokens from anyone else are refused.
    static let issuers: Set<String> = ["accounts.google.com", "https://accounts.google.com"]
}
