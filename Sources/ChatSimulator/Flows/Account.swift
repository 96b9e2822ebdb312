/// A person signed up on the server: who the server says they are, and their current token.
public struct Account: Sendable {
    public let email: String
    public let uuid: String
    public let id: Int64
    public let username: String
    /// The token of the account's last sign-up or log-in.
    public private(set) var token: String
    /// The session cookie that sign-up or log-in set (`sessionid=<value>`), if it set one: what
    /// sockets present with ``SocketAuth/cookie``.
    public private(set) var sessionCookie: String?
    /// A client of the account's server, without a token.
    private let server: ChatClient

    /// An account whose profile `me` (`GET /api/user/currentuser/`) was read with `client`.
    init(client: ChatClient, token: String, sessionCookie: String?, profile me: APIResponse) throws {
        guard me.status == 200, let uuid = me.body?["uuid"]?.stringValue, let id = me.body?["id"]?.intValue,
            let username = me.body?["username"]?.stringValue, let email = me.body?["email"]?.stringValue
        else { throw FlowError("current user", me, expected: 200) }
        let missing = Self.profileFields.filter { me.body?[$0] == nil }
        guard missing.isEmpty else { throw FlowError("current user", me, lacking: missing) }
        self.email = email
        self.uuid = uuid
        self.id = id
        self.username = username
        self.token = token
        self.sessionCookie = sessionCookie
        self.server = client.with(token: nil).with(cookie: nil)
    }

    /// The fields of a user in the contract.
    public static let profileFields = ["email", "id", "uuid", "username", "photo", "is_active"]

    /// A client of the account's server carrying its token.
    public var client: ChatClient {
        server.with(token: token)
    }

    /// Logs in again (`POST /api/rest-auth/login/`) with the password the person signed up with;
    /// returns the account with the new token.
    public func logIn(password: String) async throws -> Account {
        let response = try await server.login(email: email, password: password).expecting(200, "log-in")
        guard let token = response.body?["key"]?.stringValue else { throw FlowError("log-in", response, lacking: ["key"]) }
        var copy = self
        copy.token = token
        copy.sessionCookie = response.sessionCookie
        return copy
    }

    /// The account with a session cookie: itself when its sign-up or log-in set one, else logged
    /// in again with `password` to get one. Throws when the server sets none.
    public func withSessionCookie(password: String?) async throws -> Account {
        if sessionCookie != nil { return self }
        guard let password else {
            throw FlowError(kind: "no session cookie", "\(email)'s sign-in set no \(ChatClient.sessionCookieName) cookie, and it has no password to log in with")
        }
        let again = try await logIn(password: password)
        guard again.sessionCookie != nil else {
            throw FlowError(kind: "no session cookie", "log-in of \(email) set no \(ChatClient.sessionCookieName) cookie: sockets cannot authenticate by cookie")
        }
        return again
    }

    /// Where this person's socket on `chat` opens, authenticated by `auth`.
    public func socketEndpoint(chat: String, auth: SocketAuth) throws -> SocketEndpoint {
        switch auth {
        case .token:
            return SocketEndpoint(url: client.socketURL(chatUUID: chat))
        case .cookie:
            guard let sessionCookie else {
                throw FlowError(kind: "no session cookie", "\(email) has no session cookie to open a socket with")
            }
            return SocketEndpoint(url: server.socketURL(chatUUID: chat), headers: ["Cookie": sessionCookie])
        }
    }

    /// A client of the account's server presenting what its sockets present: the token
    /// (``SocketAuth/token``), or only the session cookie (``SocketAuth/cookie``).
    public func socketRouteClient(auth: SocketAuth) -> ChatClient {
        switch auth {
        case .token: client
        case .cookie: server.with(cookie: sessionCookie)
        }
    }
}

/// A client flow that could not go on: which request, and what the server answered.
public struct FlowError: Error, CustomStringConvertible {
    /// The request and the status it got, e.g. `registration 400`: what load runs count.
    public let kind: String
    public let description: String

    init(_ request: String, _ response: APIResponse, expected status: Int) {
        kind = "\(request) \(response.status)"
        description = "\(request) answered \(response.status), expected \(status): \(response.rawBody.prefix(200))"
            + (response.status == 429 ? Self.rateLimitHint : "")
    }

    /// Every virtual user comes from this machine's one address, which a server's default limits
    /// soon throttle: say what to do, not only what happened.
    static let rateLimitHint =
        " (the server rate-limits this machine's address; run the server under test with RATE_LIMITS=off, e.g. `RATE_LIMITS=off scripts/serve`)"

    init(_ request: String, _ response: APIResponse, lacking fields: [String]) {
        kind = "\(request) lacks \(fields.joined(separator: ", "))"
        description = "\(request): the answer lacks field(s) \(fields.joined(separator: ", ")): \(response.rawBody.prefix(200))"
    }

    init(kind: String, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

extension APIResponse {
    /// This answer, if it has `status`; otherwise a ``FlowError`` naming `request`.
    func expecting(_ status: Int, _ request: String) throws -> APIResponse {
        guard self.status == status else { throw FlowError(request, self, expected: status) }
        return self
    }
}
