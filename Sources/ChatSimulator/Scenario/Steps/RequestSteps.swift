import ChatBackend
import NIOHTTP1

/// `request`: any REST call, by an actor or with `auth`, whose answer must have the status
/// `expect` and the keys `fields`.
public struct RequestStep: Sendable, Decodable {
    /// Whose token a request carries, when not an actor's current one.
    public enum Auth: Sendable, Decodable, CustomStringConvertible {
        /// No token (`none`).
        case noToken
        /// A token that never existed.
        case bad
        /// The token an actor had before its `logout`.
        case revoked(actor: String)
        /// An actor's current token.
        case actor(String)

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            switch text {
            case "none": self = .noToken
            case "bad": self = .bad
            case _ where text.hasPrefix("revoked:"): self = .revoked(actor: String(text.dropFirst("revoked:".count)))
            default: self = .actor(text)
            }
        }

        /// As the file spells it.
        public var description: String {
            switch self {
            case .noToken: "none"
            case .bad: "bad"
            case .revoked(let actor): "revoked:\(actor)"
            case .actor(let actor): actor
            }
        }
    }

    public let method: String?
    public let path: String
    /// A JSON body; `{chat:NAME}`, `{user:NAME}` and `{id:NAME}` in its strings are filled in.
    public let body: JSONValue?
    /// A body sent as-is (malformed input).
    public let raw: String?
    public let expect: Int
    /// Keys the answer must have (in the first element of lists and of paginated `results`).
    public let fields: [String]?
    public let actor: String?
    public let auth: Auth?

    func run(in runner: isolated ScenarioRunner) async throws {
        let client = try self.client(in: runner)
        let path = try runner.fill(self.path)
        let body = try body.map { try $0.fillingStrings { try runner.fill($0) } }
        let response = try await client.request(HTTPMethod(rawValue: (method ?? "GET").uppercased()), path, json: body, rawBody: raw)
        runner.expect(response, expect, client: actor ?? auth?.description ?? "anonymous", fields: fields ?? [])
    }

    private func client(in runner: isolated ScenarioRunner) throws -> ChatClient {
        let anonymous = ChatClient(baseURL: runner.environment.baseURLs[0])
        switch auth {
        case nil: return try actor.map { try runner.person($0, "actor").client } ?? anonymous
        case .noToken?: return anonymous
        case .bad?: return anonymous.with(token: String(repeating: "0", count: 40))
        case .revoked(let actor)?:
            guard let token = try runner.person(actor, "auth").revokedToken else { throw SimulatorError("auth revoked:\(actor): that actor has not logged out") }
            return anonymous.with(token: token)
        case .actor(let actor)?: return try runner.person(actor, "auth").client
        }
    }
}

/// `logout`: `actor` logs out (revoking its token) and logs in again.
public struct LogoutStep: Sendable, Decodable {
    public let actor: String

    func run(in runner: isolated ScenarioRunner) async throws {
        var person = try runner.person(actor, "actor")
        runner.expect(try await person.client.logout(), 200, client: person.username)
        person.revokedToken = person.account.token
        person.account = try await runner.withSocketCredentials(
            try await person.account.logIn(password: Account.virtualUserPassword), password: Account.virtualUserPassword
        )
        runner.people[actor] = person
    }
}

extension ScenarioRunner {
    /// Fills `{chat:NAME}`, `{user:NAME}` and `{id:NAME}` in a path or body string.
    func fill(_ text: String) throws -> String {
        var result = text
        while let open = result.range(of: "{"), let close = result.range(of: "}", range: open.upperBound..<result.endIndex) {
            let parts = result[open.upperBound..<close.lowerBound].split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw SimulatorError("bad template \(result[open.lowerBound..<close.upperBound])") }
            let value: String = switch parts[0] {
            case "chat": try chat(parts[1])
            case "user": try person(parts[1], "template").uuid
            case "id": String(try person(parts[1], "template").account.id)
            default: throw SimulatorError("unknown template kind \(parts[0])")
            }
            result.replaceSubrange(open.lowerBound..<close.upperBound, with: value)
        }
        return result
    }
}

extension JSONValue {
    /// This value with `fill` applied to every string in it (a request body's templates).
    func fillingStrings(_ fill: (String) throws -> String) rethrows -> JSONValue {
        switch self {
        case .string(let value): .string(try fill(value))
        case .array(let values): .array(try values.map { try $0.fillingStrings(fill) })
        case .object(let members): .object(try members.map { ($0.0, try $0.1.fillingStrings(fill)) })
        default: self
        }
    }
}
