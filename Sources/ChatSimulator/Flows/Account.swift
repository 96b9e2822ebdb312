/// A person signed up on the server: who the server says they are, and their current token.
public struct Account: Sendable {
    public let email: String
    public let uuid: String
    public let id: Int64
    public let username: String
    /// The token of the account's last sign-up or log-in.
    public private(set) var token: String
    /// A client of the account's server, without a token.
    private let server: ChatClient

    /// An account whose profile `me` (`GET /api/user/currentuser/`) was read with `client`.
    init(client: ChatClient, token: String, profile me: APIResponse) throws {
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
        self.server = client.with(token: nil)
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
        return copy
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
    }

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
