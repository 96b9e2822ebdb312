import AsyncHTTPClient
import ChatBackend
import Foundation
import NIOCore
import NIOHTTP1

/// A client of the chat API that knows only the wire contract: paths, JSON fields and status
/// codes. It can be pointed at any implementation (ours in-process, ours on a URL, or another).
public struct ChatClient: Sendable {
    /// `http://host:port` of the server.
    public let baseURL: String
    /// The token sent as `Authorization: Token <key>`, if any.
    public var token: String?
    /// A cookie sent as `Cookie: <name>=<value>` with every request, if any: the session cookie,
    /// for the socket route when sockets authenticate by it.
    public var cookie: String?
    private let http: HTTPClient
    private let observer: (@Sendable (APIResponse) -> Void)?

    /// Creates a client of the server at `baseURL`; `observer` is told of every answer (load runs
    /// measure latency with it), by this client and by its copies with other tokens.
    public init(baseURL: String, token: String? = nil, http: HTTPClient = .shared, observer: (@Sendable (APIResponse) -> Void)? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.http = http
        self.observer = observer
    }

    /// The same client with another token (or none).
    public func with(token: String?) -> ChatClient {
        var copy = self
        copy.token = token
        return copy
    }

    /// The same client with another cookie (or none).
    public func with(cookie: String?) -> ChatClient {
        var copy = self
        copy.cookie = cookie
        return copy
    }

    /// Sends one request: `json` as the body, or `rawBody` bytes as-is (for malformed input).
    public func request(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, rawBody: String? = nil) async throws -> APIResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Token \(token)") }
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        if let body = rawBody ?? json?.serialized {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let started = ContinuousClock.now
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 << 20)
        let answer = APIResponse(
            status: Int(response.status.code),
            body: body.readableBytes == 0 ? nil : try? JSONValue.parse(body.readableBytesView),
            rawBody: String(buffer: body),
            latency: ContinuousClock.now - started,
            setCookies: response.headers["Set-Cookie"]
        )
        observer?(answer)
        return answer
    }

    // MARK: The contract's routes

    /// `POST /api/rest-auth/registration/`
    public func register(email: String, password: String) async throws -> APIResponse {
        try await request(.POST, "/api/rest-auth/registration/", json: ["email": .string(email), "password1": .string(password), "password2": .string(password)])
    }

    /// `POST /api/rest-auth/login/`
    public func login(email: String, password: String) async throws -> APIResponse {
        try await request(.POST, "/api/rest-auth/login/", json: ["email": .string(email), "password": .string(password)])
    }

    /// `POST /api/rest-auth/google/` with an ID token.
    public func googleSignIn(idToken: String) async throws -> APIResponse {
        try await request(.POST, "/api/rest-auth/google/", json: ["id_token": .string(idToken)])
    }

    /// `POST /api/rest-auth/logout/`
    public func logout() async throws -> APIResponse {
        try await request(.POST, "/api/rest-auth/logout/")
    }

    /// `GET /api/user/currentuser/`
    public func currentUser() async throws -> APIResponse {
        try await request(.GET, "/api/user/currentuser/")
    }

    /// `POST /api/user/friends/`: invite a user.
    public func invite(userUUID: String) async throws -> APIResponse {
        try await request(.POST, "/api/user/friends/", json: ["user_uuid": .string(userUUID)])
    }

    /// `GET /api/user/invitations/`
    public func invitations() async throws -> APIResponse {
        try await request(.GET, "/api/user/invitations/")
    }

    /// `POST /api/user/invitations/`: accept or decline.
    public func answerInvitation(id: Int64, accept: Bool) async throws -> APIResponse {
        try await request(.POST, "/api/user/invitations/", json: ["contact_id": .int(id), "decision": .bool(accept)])
    }

    /// `POST /api/chat/mychats/groups/`
    public func createGroup(name: String) async throws -> APIResponse {
        try await request(.POST, "/api/chat/mychats/groups/", json: ["name": .string(name)])
    }

    /// `POST /api/chat/<uuid>/`: add a friend to a group.
    public func addToChat(chatUUID: String, userUUID: String) async throws -> APIResponse {
        try await request(.POST, "/api/chat/\(chatUUID)/", json: ["user_uuid": .string(userUUID)])
    }

    /// The user socket's URL (PROTOCOL.md), with the token in the query.
    public var userSocketURL: String {
        let wsBase = baseURL.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://")
        return "\(wsBase)/ws/" + (token.map { "?token=\($0)" } ?? "")
    }

    /// The socket URL of a chat, with the token in the query (browsers cannot set headers).
    public func socketURL(chatUUID: String) -> String {
        let wsBase = baseURL.replacingOccurrences(of: "http://", with: "ws://").replacingOccurrences(of: "https://", with: "wss://")
        return "\(wsBase)/ws/chat/\(chatUUID)/" + (token.map { "?token=\($0)" } ?? "")
    }

    /// The name of the session cookie the original back-end set on sign-in, and ours too.
    public static let sessionCookieName = "sessionid"
}

/// One answer of the server.
public struct APIResponse: Sendable {
    public var status: Int
    /// The JSON body; nil when empty or not JSON.
    public var body: JSONValue?
    public var rawBody: String
    public var latency: Duration
    /// The `Set-Cookie` header values, as sent.
    public var setCookies: [String] = []

    /// The session cookie this answer set, as a `Cookie` header sends it back (`sessionid=<value>`);
    /// nil when it set none, or removed it (an empty value).
    public var sessionCookie: String? {
        for header in setCookies {
            guard let pair = header.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) else { continue }
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == ChatClient.sessionCookieName else { continue }
            return parts[1].isEmpty || parts[1] == "\"\"" ? nil : pair
        }
        return nil
    }
}
