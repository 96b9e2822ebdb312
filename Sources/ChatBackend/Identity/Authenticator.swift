/// A key as a client presented it, read by one policy wherever keys come in.
///
/// A key comes as `Authorization: Token <key>` (or `Bearer <key>`) on any request, or, on a
/// socket upgrade only, as `?token=<key>` (browsers cannot set headers on a WebSocket) or as the
/// session cookie the log-in set (the original's way; the socket route checks the page's origin
/// first). A header of
/// another scheme counts as no key; a key that is malformed or longer than any key the server
/// issues is invalid, in the header and in the query alike (DRF answers a malformed header 401 too).
public enum PresentedKey: Sendable, Equatable {
    /// Nothing presented: the caller is anonymous.
    case absent
    /// Something presented that cannot be a key.
    case malformed
    /// A well-formed key, not yet looked up.
    case key(SecretKey)

    /// The key in an `Authorization` header value.
    public init(authorization header: String?) {
        guard let header else {
            self = .absent
            return
        }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let scheme = parts.first?.lowercased(), scheme == "token" || scheme == "bearer" else {
            self = .absent
            return
        }
        self = parts.count == 2 ? Self(text: parts[1]) : .malformed
    }

    /// The key in the `Authorization` header, else in the socket's `?token=` value.
    public init(authorization header: String?, query: String?) {
        let fromHeader = PresentedKey(authorization: header)
        if fromHeader != .absent {
            self = fromHeader
        } else {
            self = query.map { Self(text: Substring($0)) } ?? .absent
        }
    }

    /// The key in the session cookie's value: accepted on socket upgrades only, when neither the
    /// header nor the query presents one.
    public init(sessionCookie value: String) {
        self.init(text: Substring(value))
    }

    private init(text: Substring) {
        guard !text.isEmpty, text.utf8.count <= Limits.keyCharacters else {
            self = .malformed
            return
        }
        self = .key(SecretKey(String(text)))
    }
}

/// Who a caller is: the user, and the digest of the token they came with (logout, password change
/// and a socket's later checks name that token).
public struct Caller: Sendable, Equatable {
    public let user: User
    public let tokenDigest: String
}

/// The one place that decides what a presented key means, for REST requests, socket upgrades and a
/// socket's periodic check alike.
public struct Authenticator: Sendable {
    let store: ChatStore

    public init(store: ChatStore) {
        self.store = store
    }

    /// The caller a key belongs to; nil when no key was presented. Throws the contract's 401
    /// (`Invalid token.`) for a malformed, unknown or revoked key.
    public func caller(presenting key: PresentedKey) async throws -> Caller? {
        switch key {
        case .absent:
            return nil
        case .malformed:
            throw APIError.invalidToken
        case .key(let key):
            guard let caller = try await caller(tokenDigest: key.digest) else { throw APIError.invalidToken }
            return caller
        }
    }

    /// The caller whose token has this digest, if the token is still valid: what a socket asks
    /// again as frames come, having kept the digest and not the key.
    public func caller(tokenDigest: String) async throws -> Caller? {
        try await store.user(tokenHash: tokenDigest).map { Caller(user: $0, tokenDigest: tokenDigest) }
    }

    /// Whether the token `caller` opened a socket with still names the same user (it may have been
    /// revoked on another node since). Throws when the database cannot say; a socket then keeps
    /// going, and what it asks for next fails and says so.
    public func stillNames(_ caller: Caller) async throws -> Bool {
        try await self.caller(tokenDigest: caller.tokenDigest)?.user.id == caller.user.id
    }
}
