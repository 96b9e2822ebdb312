import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// The real application on a live port, on a fresh database of the backend the environment names
/// (``TestBackend``: SQLite by default, PostgreSQL + Redis in CI's second pass), with a low bcrypt
/// cost and a mail outbox the test can read.
struct TestServer: Sendable {
    let client: TestClient
    let port: Int
    let outbox: MemoryMailOutbox

    /// A client of the live server that speaks the wire contract: for the simulator's client flows.
    var api: ChatClient { ChatClient(baseURL: "http://127.0.0.1:\(port)") }

    /// The scheme and authority the server's absolute URLs start with: the test client always
    /// sends the authority `localhost`, and the server builds its links from what the client sent.
    var baseURL: String { "http://localhost" }

    /// Runs `body` against a new server; `database` lets a test reopen the same database later.
    static func run<T: Sendable>(
        database: DatabaseLocation? = nil,
        clock: (@Sendable () -> Timestamp)? = nil,
        configure: (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        let storage: ServerStorage
        let madeHere: DatabaseLocation?
        if let database {
            storage = try TestBackend.current.storage(of: database)
            madeHere = nil
        } else {
            storage = try await TestBackend.current.freshStorage()
            madeHere = storage.database
        }
        let outbox = MemoryMailOutbox()
        var configuration = AppConfiguration.testing(storage: storage, outbox: outbox)
        if let clock { configuration.clock = clock }
        configure(&configuration)
        let server = try await RunningApplication.start(configuration, logger: Logger(label: "test-server"))
        do {
            let value = try await TestClient.withClient(host: "localhost", port: server.port, configuration: .init(timeout: .seconds(20))) {
                client in try await body(TestServer(client: client, port: server.port, outbox: outbox))
            }
            try await server.stop()
            if let madeHere { await TestBackend.current.dropDatabase(madeHere) }
            return value
        } catch {
            try? await server.stop()
            if let madeHere { await TestBackend.current.dropDatabase(madeHere) }
            throw error
        }
    }

    /// A new, empty database of the current backend.
    static func freshDatabase() async throws -> DatabaseLocation {
        try await TestBackend.current.freshDatabase()
    }

    // MARK: Requests

    /// Sends a request with an optional token and JSON body.
    func request(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: JSONValue? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = headers
        if let token { headers[.authorization] = "Token \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        headers[.connection] = "keep-alive"
        let response = try await client.execute(
            TestClient.Request(path, method: method, authority: "localhost", headers: headers, body: json.map { ByteBuffer(string: $0.serialized) })
        )
        return Reply(status: response.status, headers: response.headers, body: response.body.map { String(buffer: $0) } ?? "")
    }

    func get(_ path: String, token: String? = nil) async throws -> Reply {
        try await request(.get, path, token: token)
    }

    func post(_ path: String, token: String? = nil, json: JSONValue? = nil) async throws -> Reply {
        try await request(.post, path, token: token, json: json)
    }

    // MARK: Accounts

    /// The confirmation key of the last e-mail sent to `email`, read from its link.
    func confirmationKey(for email: String) throws -> String {
        let mail = try #require(outbox.mails.last { $0.to == email })
        let marker = "/account-confirm-email/"
        let start = try #require(mail.body.range(of: marker)).upperBound
        return String(mail.body[start...].prefix { $0 != "/" })
    }

    /// Registers `name@example.com` with the tests' password, and returns who they are.
    func register(_ name: String) async throws -> Person {
        try await api.signUp(email: "\(name)@example.com", password: "Pr0be-pass-2020")
    }

    /// Makes two people friends (and so opens their private chat); returns the chat's uuid.
    @discardableResult
    func befriend(_ a: Person, _ b: Person) async throws -> String {
        try await a.befriend(b)
    }

    /// Alice and Bob, friends, each with a socket on their private chat.
    func friendsOnSockets() async throws -> (alice: Person, bob: Person, chat: String, aliceSocket: TestSocket, bobSocket: TestSocket) {
        let pair = try await FriendsOnSockets(register("alice"), register("bob"))
        return (pair.first, pair.second, pair.chat, TestSocket(pair.firstSocket), TestSocket(pair.secondSocket))
    }

    /// Creates a group chat of `owner` with `members` befriended and added.
    func group(_ name: String, owner: Person, members: [Person]) async throws -> String {
        for member in members { try await owner.befriend(member) }
        return try await owner.createGroup(name: name, members: members)
    }
}

/// A registered person: the simulator's account.
typealias Person = Account

/// An HTTP answer, with its body read as text.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: String

    /// The body parsed as JSON (`null` when empty or not JSON, which a test then notices).
    var json: JSONValue {
        (try? JSONValue.parse(Array(body.utf8))) ?? .null
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
