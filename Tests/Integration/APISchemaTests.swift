@testable import ChatBackend
import Foundation
import Hummingbird
import Logging
import Testing

@Suite("API schema")
struct APISchemaTests {
    @Test("every registered route is documented and every documented operation is registered, the socket included")
    func documentMatchesRouter() async throws {
        let registered = try await Self.registeredOperations()
        let documented = try Self.documentedOperations()
        let socket = Self.operation("GET", "/ws/chat/{uuid}/")
        #expect(registered.contains(socket), "the socket route is registered")
        #expect(documented.contains(socket), "the socket route is documented")

        let undocumented = registered.subtracting(documented)
        #expect(undocumented.isEmpty, "registered but missing from the OpenAPI document: \(undocumented.sorted())")
        let unregistered = documented.subtracting(registered)
        #expect(unregistered.isEmpty, "documented but not registered: \(unregistered.sorted())")
    }

    @Test("the AsyncAPI document names exactly the commands each socket understands and the frames it sends, and every reference resolves")
    func asyncAPIMatchesSockets() throws {
        let document = try JSONValue.parse(Array(AsyncAPIDocument.json.get().utf8))
        #expect(document["asyncapi"] == "3.0.0")
        func names(_ operation: String) -> Set<String> {
            let references = document["operations"]?[operation]?["messages"]?.arrayValue ?? []
            return Set(references.compactMap { reference -> String? in
                guard let path = reference["$ref"]?.stringValue else { return nil }
                let parts = path.dropFirst(2).split(separator: "/").map(String.init)  // "#/channels/x/messages/y"
                guard let message = parts.reduce(Optional(document), { $0?[$1] }), let target = message["$ref"]?.stringValue else { return nil }
                let component = target.split(separator: "/").last.map(String.init) ?? ""
                return document["components"]?["messages"]?[component]?["name"]?.stringValue
            })
        }
        // A command the parser knows fails on its fields, not with "unknown command".
        let understood: (String, (String) -> String?) -> Bool = { name, parse in
            !(parse(#"{"command": "\#(name)"}"#)?.hasPrefix("unknown command") ?? false)
        }
        let userParse: (String) -> String? = { text in
            if case .failure(let error) = UserCommand.parse(text) { return error.reason } else { return nil }
        }
        let chatParse: (String) -> String? = { text in
            if case .failure(let error) = ClientCommand.parse(text) { return error.reason } else { return nil }
        }
        let userCommands = ["send", "resume", "history", "edit", "delete", "typing", "read", "ping"]
        #expect(names("receiveUserCommands") == Set(userCommands))
        #expect(userCommands.allSatisfy { understood($0, userParse) })
        #expect(!understood("subscribe", userParse), "the check can tell an unknown command")
        #expect(names("receiveChatCommands") == ["fetch_messages", "new_message"])
        #expect(["fetch_messages", "new_message"].allSatisfy { understood($0, chatParse) })

        // The frames the server builds, each by its own builder.
        let chat = UUID()
        let message = Message(id: 1, chatID: 1, seq: 1, authorID: 1, content: "hi", timeStamp: .now, clientID: "c")
        let userFrames = [
            UserFrame.hello(user: chat, chats: [], online: []), UserFrame.message(message, chat: chat, author: chat), UserFrame.ack(message, chat: chat),
            UserFrame.resumed(chat: chat, seq: 1, truncated: false), UserFrame.history(chat: chat, messages: [], more: false),
            UserFrame.edited(message, chat: chat), UserFrame.deleted(message, chat: chat), UserFrame.typing(chat: chat, user: chat),
            UserFrame.read(chat: chat, user: chat, seq: 1), UserFrame.chatEvent("added", chat: .null), UserFrame.presence(user: chat, online: true),
            UserFrame.pong, UserFrameError("x").frame,
        ]
        let sent = Set(try userFrames.compactMap { try JSONValue.parse(Array($0.utf8))["command"]?.stringValue })
        #expect(names("sendUserFrames") == sent)
        #expect(names("sendChatFrames") == ["new_message", "fetch_messages", "error"])
    }

    @Test("every bound the document states is the server's own, from Limits")
    func boundsMatchLimits() throws {
        let password = AccountSettings().passwordPolicy.maximumLength
        // Each bound the document states, by where it stands; a new bound must be added here.
        let expected: [String: Int] = [
            "parameters.Phrase.maxLength": Limits.searchPhraseCharacters,
            "parameters.Limit.default": Limits.defaultPageSize,
            "schemas.RegistrationRequest.email.maxLength": Limits.emailCharacters,
            "schemas.RegistrationRequest.password1.maxLength": password,
            "schemas.RegistrationRequest.password2.maxLength": password,
            "schemas.RegistrationRequest.username.maxLength": Limits.usernameCharacters,
            "schemas.EmailRequest.email.maxLength": Limits.emailCharacters,
            "schemas.KeyRequest.key.maxLength": Limits.keyCharacters,
            "schemas.LoginRequest.email.maxLength": Limits.emailCharacters,
            "schemas.LoginRequest.password.maxLength": password,
            "schemas.PasswordChangeRequest.old_password.maxLength": password,
            "schemas.PasswordChangeRequest.new_password1.maxLength": password,
            "schemas.PasswordChangeRequest.new_password2.maxLength": password,
            "schemas.GoogleSignInRequest.id_token.maxLength": Limits.googleIDTokenCharacters,
            "schemas.GoogleSignInRequest.access_token.maxLength": Limits.googleAccessTokenCharacters,
            "schemas.GroupRequest.name.maxLength": Limits.chatNameCharacters,
            "schemas.SocketNewMessage.message.maxLength": Limits.messageCharacters,
            "schemas.SendMessageRequest.message.maxLength": Limits.messageCharacters,
            "schemas.SendMessageRequest.client_id.maxLength": Limits.clientIDCharacters,
            "schemas.EditMessageRequest.message.maxLength": Limits.messageCharacters,
            "schemas.RenameRequest.name.maxLength": Limits.chatNameCharacters,
        ]
        let components = try #require(try Self.document()["components"])
        var stated: [String: Int] = [:]
        for section in ["parameters", "schemas"] {
            for (name, value) in components[section]?.objectMembers ?? [] {
                Self.collectBounds(value, at: "\(section).\(name)", into: &stated)
            }
        }
        #expect(stated == expected)

        let description = try #require(try Self.document()["info"]?["description"]?.stringValue)
        #expect(description.contains("at most \(Limits.maximumPageSize);"), "the page-size cap")
        #expect(description.contains("Request bodies are at most \(Limits.requestBodyBytes / 1024) KiB"), "the body bound")
    }

    /// Every `maxLength`, `maximum` (but the int64 range) and `default` under `value`, by path.
    /// Properties are named without the `properties` and `schema` levels between.
    private static func collectBounds(_ value: JSONValue, at path: String, into bounds: inout [String: Int]) {
        for (key, member) in value.objectMembers {
            switch (key, member) {
            case ("maxLength", .int(let bound)), ("default", .int(let bound)) where bound > 0:
                bounds["\(path).\(key)"] = Int(bound)
            case ("maximum", .int(let bound)) where bound != Int64.max:
                bounds["\(path).\(key)"] = Int(bound)
            case ("properties", _), ("schema", _):
                collectBounds(member, at: path, into: &bounds)
            case (_, .object):
                collectBounds(member, at: "\(path).\(key)", into: &bounds)
            default:
                break
            }
        }
    }

    @Test("every API and socket path of the document ends with a slash, as the contract's routes do")
    func trailingSlashes() throws {
        let paths = try Self.document()["paths"]?.objectKeys ?? []
        #expect(!paths.isEmpty)
        for path in paths where path.hasPrefix("/api/") || path.hasPrefix("/ws/") {
            #expect(path.hasSuffix("/"), "\(path)")
        }
    }

    @Test("every operation that needs a token documents the 401 it answers without one")
    func protectedOperationsDocument401() throws {
        let document = try Self.document()
        let defaultSecurity = document["security"]
        for (path, item) in document["paths"]?.objectMembers ?? [] {
            for (method, operation) in item.objectMembers where Self.httpMethods.contains(method) {
                guard case .array(let requirements)? = operation["security"] ?? defaultSecurity else { continue }
                // `{}` among the requirements makes the token optional (log-out).
                let tokenRequired = !requirements.isEmpty && !requirements.contains(.object([]))
                let answers401 = operation["responses"]?["401"] != nil
                #expect(!tokenRequired || answers401, "\(method.uppercased()) \(path) needs a token but documents no 401")
            }
        }
    }

    @Test("the document names the token scheme and describes the socket protocol")
    func tokenSchemeAndSocketProtocol() throws {
        let document = try Self.document()
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.") == true)
        let scheme = document["components"]?["securitySchemes"]?["TokenAuth"]
        #expect(scheme?["type"] == "apiKey" && scheme?["in"] == "header" && scheme?["name"] == "Authorization")
        #expect(document["security"] == [["TokenAuth": []]])

        let tags = document["tags"]?.arrayElements ?? []
        let sockets = try #require(tags.first { $0["name"] == "sockets" }?["description"]?.stringValue)
        for term in [
            "/ws/chat/{uuid}/", "fetch_messages", "new_message", "last_message_time_stamp", "LAST PACKAGE", "NO MESSAGES",
            #"{"command": "error", "error": "#, "1001", "1008", "1009", "`401`", "`403`", "`404`", "?token=",
        ] {
            #expect(sockets.contains(term), "the socket description mentions \(term)")
        }
        let schemas = document["components"]?["schemas"]
        for name in ["Detail", "FieldErrors", "NoAccess", "SocketError", "SocketHistoryPage", "SocketMessageBroadcast"] {
            #expect(schemas?[name] != nil, "schema \(name)")
        }
    }

    @Test("the docs page, the JSON and the YAML answer 200 without a token, and JSON and YAML are one document")
    func servedForms() async throws {
        try await TestServer.run { server in
            let page = try await server.get("/apischema/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.body.contains("/apischema/openapi.json"))

            let json = try await server.get("/apischema/openapi.json")
            #expect(json.status == .ok)
            #expect(json.headers[.contentType] == "application/json")
            let yaml = try await server.get("/apischema/openapi.yaml")
            #expect(yaml.status == .ok)
            #expect(yaml.headers[.contentType]?.hasPrefix("application/yaml") == true)

            let fromJSON = try JSONValue.parse(Array(json.body.utf8))
            let fromYAML = try JSONValue(yaml: yaml.body)
            #expect(fromJSON == fromYAML)
            #expect(fromJSON["info"]?["title"] == "ChatBackend API")
        }
    }

    @Test("the docs page loads Swagger UI from this server alone, and each of its files answers with its type and caching headers")
    func swaggerUIServedLocally() async throws {
        try await TestServer.run { server in
            let page = try await server.get("/apischema/")
            #expect(page.headers[.cacheControl] == "no-cache")
            // Nothing from elsewhere: a machine without internet access must render the page.
            #expect(!page.body.contains("://"), "the page names no other origin")
            let references = Self.attributes(["src", "href"], in: page.body)
            #expect(references.allSatisfy { $0.hasPrefix("/apischema/") || $0.hasPrefix("data:") }, "\(references)")
            let assets = references.filter { $0.hasPrefix("/apischema/swagger-ui/") }
            #expect(assets.count == 2, "the page loads Swagger UI's script and style sheet: \(references)")

            let expected = [("swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle"), ("swagger-ui.css", "text/css", ".swagger-ui")]
            for (name, type, marker) in expected {
                let path = try #require(assets.first { $0.contains("/\(name)") }, "the page loads \(name)")
                let file = try await server.get(path)
                #expect(file.status == .ok, "\(path)")
                #expect(file.headers[.contentType]?.hasPrefix(type) == true, "\(path): \(file.headers[.contentType] ?? "no type")")
                #expect(file.body.contains(marker), "\(path) is Swagger UI's \(name)")
                #expect(file.headers[.cacheControl]?.contains("max-age=") == true, "\(path) may be cached")

                // A browser that has the file asks again with its tag and gets no body back.
                let tag = try #require(file.headers[.eTag], "\(path) has an entity tag")
                let again = try await server.request(.get, path, headers: [.ifNoneMatch: tag])
                #expect(again.status == .notModified && again.body.isEmpty, "\(path) revalidated")
                let stale = try await server.request(.get, path, headers: [.ifNoneMatch: "\"stale\""])
                #expect(stale.status == .ok && stale.body == file.body, "\(path) with another tag")
            }

            let unknown = try await server.get("/apischema/swagger-ui/index.html")
            #expect(unknown.status == .notFound)
        }
    }

    @Test("answers schemathesis once found outside the document now match it")
    func fuzzingFindings() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            _ = try await server.register("anna")

            // An offset near Int.max crashed the server (an overflow computing the next link).
            let far = try await server.get("/api/user/search/a/?offset=9223372036854775807", token: alice.token)
            #expect(far.status == .ok && far.json["count"] == 2 && far.json["next"] == .null)

            // Links repeat the client's other query parameters, percent-encoded: valid URLs.
            let page = try await server.get("/api/user/search/a/?limit=1&q=%C3%A9t%C3%A9%20x%26y&%F0%9F%99%82=1", token: alice.token)
            let next = try #require(page.json["next"]?.stringValue)
            #expect(next.allSatisfy { $0.isASCII && !$0.isWhitespace }, "\(next)")
            #expect(next.contains("q=%C3%A9t%C3%A9%20x%26y") && next.contains("%F0%9F%99%82=1") && next.contains("offset=1"), "\(next)")

            // The original answers these bad bodies with an empty 400, and so do the documented routes.
            let group = try await server.post("/api/chat/mychats/groups/", token: alice.token, json: ["name": 5])
            #expect(group.status == .badRequest && group.body.isEmpty)
            let invitation = try await server.post("/api/user/invitations/", token: alice.token, json: [1, 2])
            #expect(invitation.status == .badRequest && invitation.body.isEmpty)

            // An address that is not one is refused, as the original's e-mail field refused it.
            let resend = try await server.post("/api/rest-auth/registration/resend-email/", json: ["email": "useratexample.com"])
            #expect(resend.status == .badRequest && resend.json["email"] != nil)
        }
    }

    @Test("the YAML reading refuses what another YAML parser would read differently")
    func strictYAML() throws {
        #expect(throws: YAMLToJSONError.self) { try JSONValue(yaml: "responses:\n  200: ok\n") }
        #expect(throws: (any Error).self) { try JSONValue(yaml: "a: 1\na: 2\n") }
        #expect(throws: YAMLToJSONError.self) { try JSONValue(yaml: "when: 2020-08-06\n") }
        #expect(try JSONValue(yaml: "'200': 'yes'\nn: 7\nb: true\nz: null\n") == ["200": "yes", "n": 7, "b": true, "z": nil])
    }

    // MARK: Reading both sides

    /// The values of the named attributes in an HTML text, in order (`src="…"`, double-quoted, as
    /// the server writes its pages).
    static func attributes(_ names: [String], in html: String) -> [String] {
        var values: [String] = []
        var rest = html[...]
        while let next = names.compactMap({ rest.range(of: " \($0)=\"") }).min(by: { $0.lowerBound < $1.lowerBound }) {
            rest = rest[next.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            values.append(String(rest[..<end]))
            rest = rest[end...]
        }
        return values
    }

    /// The keys of an OpenAPI path item that name operations.
    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// `METHOD /path` without the trailing slash: the router matches a path with or without it.
    static func operation(_ method: String, _ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return "\(method.uppercased()) \(path)"
    }

    /// `operation(_:_:)` of `"METHOD /path"`.
    static func operation(_ text: String) -> String {
        let parts = text.split(separator: " ", maxSplits: 1)
        return operation(String(parts[0]), String(parts[1]))
    }

    /// The routes of the very router the server serves, built without serving.
    static func registeredOperations() async throws -> Set<String> {
        let logger = Logger(label: "api-schema-test")
        return try await SQLiteDatabase.open(path: nil, logger: logger).whileRunning { database in
            let router = try makeServices(AppConfiguration(), database: database, logger: logger).router()
            return Set(router.routes.map { operation($0.method.rawValue, $0.path.description) })
        }
    }

    /// The document, read from the JSON the server serves.
    static func document() throws -> JSONValue {
        try JSONValue.parse(Array(OpenAPIDocument.json.get().utf8))
    }

    /// Every `METHOD /path` the document describes.
    static func documentedOperations() throws -> Set<String> {
        var operations = Set<String>()
        for (path, item) in try document()["paths"]?.objectMembers ?? [] {
            for method in item.objectKeys where httpMethods.contains(method) {
                operations.insert(operation(method, path))
            }
        }
        return operations
    }
}

extension JSONValue {
    /// The members of an object, in order.
    fileprivate var objectMembers: [(String, JSONValue)] {
        if case .object(let members) = self { return members }
        return []
    }

    /// The keys of an object, in order.
    fileprivate var objectKeys: [String] {
        objectMembers.map(\.0)
    }

    /// The elements of an array.
    fileprivate var arrayElements: [JSONValue] {
        if case .array(let elements) = self { return elements }
        return []
    }
}
