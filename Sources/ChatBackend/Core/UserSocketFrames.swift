import Foundation

/// A command a client sends on the user socket, `/ws/` (PROTOCOL.md).
enum UserCommand: Equatable {
    /// `{"command": "send", "chat", "client_id", "message"}`
    case send(chat: UUID, clientID: String, content: String)
    /// `{"command": "resume", "chats": {"<uuid>": <last seq seen>, ...}}`
    case resume([UUID: Int64])
    /// `{"command": "history", "chat", "before_seq"?, "limit"?}`
    case history(chat: UUID, beforeSeq: Int64?, limit: Int)
    /// `{"command": "edit", "chat", "id", "message"}`
    case edit(chat: UUID, id: Int64, content: String)
    /// `{"command": "delete", "chat", "id"}`
    case delete(chat: UUID, id: Int64)
    /// `{"command": "typing", "chat"}`
    case typing(chat: UUID)
    /// `{"command": "read", "chat", "seq"}`
    case read(chat: UUID, seq: Int64)
    /// `{"command": "ping"}`
    case ping

    /// The chat the command is about, if it names one.
    var chat: UUID? {
        switch self {
        case .send(let chat, _, _), .history(let chat, _, _), .edit(let chat, _, _), .delete(let chat, _), .typing(let chat),
            .read(let chat, _):
            chat
        case .resume, .ping:
            nil
        }
    }

    /// Parses one text frame, or says in plain words what is wrong with it (echoing its
    /// `client_id`, when it had a usable one, so the client knows which send failed).
    static func parse(_ text: String) -> Result<UserCommand, UserFrameError> {
        guard let value = try? JSONValue.parse(Array(text.utf8)) else { return .failure(UserFrameError("frame is not valid JSON")) }
        guard case .object = value else { return .failure(UserFrameError("frame must be a JSON object")) }
        let clientID = value["client_id"]?.stringValue.flatMap { (1...Limits.clientIDCharacters).contains($0.count) ? $0 : nil }
        return parse(value).mapError { UserFrameError($0.reason, clientID: clientID) }
    }

    private static func parse(_ value: JSONValue) -> Result<UserCommand, SocketFrameError> {
        guard let command = value["command"] else { return .failure("missing field 'command'") }
        switch command.stringValue {
        case "send":
            return chat(value).flatMap { chat in
                clientID(value).flatMap { clientID in
                    ClientCommand.messageText(value["message"]).map { .send(chat: chat, clientID: clientID, content: $0) }
                }
            }
        case "resume": return resume(value)
        case "history":
            return chat(value).flatMap { chat in
                optionalPositive(value, "before_seq").flatMap { before in
                    limit(value).map { .history(chat: chat, beforeSeq: before, limit: $0) }
                }
            }
        case "edit":
            return chat(value).flatMap { chat in
                messageID(value).flatMap { id in ClientCommand.messageText(value["message"]).map { .edit(chat: chat, id: id, content: $0) } }
            }
        case "delete": return chat(value).flatMap { chat in messageID(value).map { .delete(chat: chat, id: $0) } }
        case "typing": return chat(value).map(UserCommand.typing)
        case "read":
            return chat(value).flatMap { chat in
                guard let seq = value["seq"]?.intValue, seq >= 0 else { return .failure("field 'seq' must be an integer, 0 or more") }
                return .success(.read(chat: chat, seq: seq))
            }
        case "ping": return .success(.ping)
        case nil: return .failure("field 'command' must be a string")
        case let other?: return .failure("unknown command '\(other.prefix(40))'")
        }
    }

    private static func chat(_ value: JSONValue) -> Result<UUID, SocketFrameError> {
        guard let text = value["chat"]?.stringValue else { return .failure("field 'chat' must be a chat's uuid") }
        guard text.count <= 36, let uuid = UUID(uuidString: text) else { return .failure("field 'chat' is not a uuid") }
        return .success(uuid)
    }

    private static func clientID(_ value: JSONValue) -> Result<String, SocketFrameError> {
        guard let text = value["client_id"]?.stringValue, (1...Limits.clientIDCharacters).contains(text.count),
            !TextRules.hasForbiddenControlCharacter(text)
        else {
            return .failure("field 'client_id' must be a string of 1 to \(Limits.clientIDCharacters) characters")
        }
        return .success(text)
    }

    private static func messageID(_ value: JSONValue) -> Result<Int64, SocketFrameError> {
        guard let id = value["id"]?.intValue, id > 0 else { return .failure("field 'id' must be a message id") }
        return .success(id)
    }

    private static func optionalPositive(_ value: JSONValue, _ name: String) -> Result<Int64?, SocketFrameError> {
        guard let field = value[name], field != .null else { return .success(nil) }
        guard let number = field.intValue, number > 0 else { return .failure("field '\(name)' must be a positive integer") }
        return .success(number)
    }

    private static func limit(_ value: JSONValue) -> Result<Int, SocketFrameError> {
        guard let field = value["limit"], field != .null else { return .success(Limits.historyPageSize) }
        guard let limit = field.intValue, (1...Int64(Limits.userHistoryPage)).contains(limit) else {
            return .failure("field 'limit' must be an integer from 1 to \(Limits.userHistoryPage)")
        }
        return .success(Int(limit))
    }

    private static func resume(_ value: JSONValue) -> Result<UserCommand, SocketFrameError> {
        guard case .object(let members)? = value["chats"] else {
            return .failure("field 'chats' must be an object of chat uuids and the last seq seen")
        }
        guard members.count <= Limits.resumeChats else { return .failure("field 'chats' names more than \(Limits.resumeChats) chats") }
        var positions: [UUID: Int64] = [:]
        for (key, position) in members {
            guard key.count <= 36, let chat = UUID(uuidString: key) else { return .failure("field 'chats' has a key that is not a uuid") }
            guard let seq = position.intValue, seq >= 0 else { return .failure("field 'chats' must map each chat to a seq, 0 or more") }
            positions[chat] = seq
        }
        return .success(.resume(positions))
    }
}

/// What was wrong with a user-socket frame: `{"command": "error", "error", "client_id"?, "chat"?}`.
struct UserFrameError: Error, Equatable {
    let reason: String
    var clientID: String?
    var chat: UUID?
    /// Seconds until the client may send again, for `rate_limited`.
    var retryAfter: Double?

    init(_ reason: String, clientID: String? = nil, chat: UUID? = nil) {
        self.reason = reason
        self.clientID = clientID
        self.chat = chat
    }

    var frame: String {
        var members: [(String, JSONValue)] = [("command", "error"), ("error", .string(reason))]
        if let clientID { members.append(("client_id", .string(clientID))) }
        if let chat { members.append(("chat", .string(chat.text))) }
        if let retryAfter { members.append(("retry_after", .double(retryAfter))) }
        return JSONValue.object(members).serialized
    }
}

/// The frames the server sends on the user socket.
enum UserFrame {
    /// `{"command": "hello", "user", "chats": [...], "online": [...]}`
    static func hello(user: UUID, chats: [(uuid: UUID, state: ChatReadState)], online: [UUID]) -> String {
        JSONValue.object([
            ("command", "hello"),
            ("user", .string(user.text)),
            ("chats", .array(chats.map { $0.state.json(chatUUID: $0.uuid) })),
            ("online", .array(online.map { .string($0.text) })),
        ]).serialized
    }

    /// `{"command": "message", "chat", "message": {...}}`: a new message, encoded once for all.
    static func message(_ message: Message, chat: UUID, author: UUID) -> String {
        var body: [(String, JSONValue)] = [
            ("id", .int(message.id)),
            ("seq", .int(message.seq)),
            ("author_id", .int(message.authorID)),
            ("author", .string(author.text)),
            ("content", .string(message.content)),
            ("time_stamp", .string(message.timeStamp.socketText)),
        ]
        if let clientID = message.clientID { body.append(("client_id", .string(clientID))) }
        if let editedAt = message.editedAt { body.append(("edited_at", .string(editedAt.socketText))) }
        if message.deleted { body.append(("deleted", .bool(true))) }
        return JSONValue.object([("command", "message"), ("chat", .string(chat.text)), ("message", .object(body))]).serialized
    }

    /// `{"command": "ack", "client_id", "chat", "id", "seq", "time_stamp"}`
    static func ack(_ message: Message, chat: UUID) -> String {
        guard case .object(let members) = message.ackJSON(chatUUID: chat) else { return "" }
        return JSONValue.object([("command", "ack")] + members).serialized
    }

    /// `{"command": "resumed", "chat", "seq", "truncated"?}`
    static func resumed(chat: UUID, seq: Int64, truncated: Bool) -> String {
        var members: [(String, JSONValue)] = [("command", "resumed"), ("chat", .string(chat.text)), ("seq", .int(seq))]
        if truncated { members.append(("truncated", .bool(true))) }
        return JSONValue.object(members).serialized
    }

    /// `{"command": "history", "chat", "messages": [newest first], "more"}`
    static func history(chat: UUID, messages: [Message], more: Bool) -> String {
        JSONValue.object([
            ("command", "history"), ("chat", .string(chat.text)), ("messages", .array(messages.map(\.json))), ("more", .bool(more)),
        ]).serialized
    }

    /// `{"command": "edited", "chat", "id", "seq", "content", "edited_at"}`
    static func edited(_ message: Message, chat: UUID) -> String {
        JSONValue.object([
            ("command", "edited"), ("chat", .string(chat.text)), ("id", .int(message.id)), ("seq", .int(message.seq)),
            ("content", .string(message.content)), ("edited_at", .string((message.editedAt ?? message.timeStamp).socketText)),
        ]).serialized
    }

    /// `{"command": "deleted", "chat", "id", "seq"}`
    static func deleted(_ message: Message, chat: UUID) -> String {
        JSONValue.object([("command", "deleted"), ("chat", .string(chat.text)), ("id", .int(message.id)), ("seq", .int(message.seq))])
            .serialized
    }

    /// `{"command": "typing", "chat", "user"}`
    static func typing(chat: UUID, user: UUID) -> String {
        JSONValue.object([("command", "typing"), ("chat", .string(chat.text)), ("user", .string(user.text))]).serialized
    }

    /// `{"command": "read", "chat", "user", "seq"}`
    static func read(chat: UUID, user: UUID, seq: Int64) -> String {
        JSONValue.object([("command", "read"), ("chat", .string(chat.text)), ("user", .string(user.text)), ("seq", .int(seq))]).serialized
    }

    /// `{"command": "chat", "event": "added" | "removed" | "updated", "chat": {chat JSON}}`
    static func chatEvent(_ event: String, chat: JSONValue) -> String {
        JSONValue.object([("command", "chat"), ("event", .string(event)), ("chat", chat)]).serialized
    }

    /// `{"command": "presence", "user", "online"}`
    static func presence(user: UUID, online: Bool) -> String {
        JSONValue.object([("command", "presence"), ("user", .string(user.text)), ("online", .bool(online))]).serialized
    }

    /// `{"command": "pong"}`
    static let pong = JSONValue.object([("command", "pong")]).serialized
}
