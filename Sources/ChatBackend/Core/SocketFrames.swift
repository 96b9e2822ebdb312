/// A command a client sends on the chat socket.
enum ClientCommand: Equatable {
    /// `{"command": "fetch_messages", "last_message_time_stamp": "0" | "<date-time>", "last_message_id"?: int}`,
    /// or `{"command": "fetch_messages", "before_seq": int}`
    case fetchMessages(HistoryCursor?)
    /// `{"command": "new_message", "message": "<text>"}`
    case newMessage(String)

    /// Parses one text frame, or says in plain words what is wrong with it.
    static func parse(_ text: String) -> Result<ClientCommand, SocketFrameError> {
        guard let value = try? JSONValue.parse(Array(text.utf8)) else { return .failure("frame is not valid JSON") }
        guard case .object = value else { return .failure("frame must be a JSON object") }
        guard let command = value["command"] else { return .failure("missing field 'command'") }
        switch command.stringValue {
        case "fetch_messages": return parseFetch(value)
        case "new_message": return parseNewMessage(value)
        case nil: return .failure("field 'command' must be a string")
        case let other?: return .failure("unknown command '\(other.prefix(40))'")
        }
    }

    /// `before_seq`, when present, is the cursor and the time-stamp fields are not read: a client may
    /// send both, the old cursor for servers that know only it.
    private static func parseFetch(_ value: JSONValue) -> Result<ClientCommand, SocketFrameError> {
        if let seqValue = value["before_seq"], seqValue != .null {
            guard let seq = seqValue.intValue, seq > 0 else { return .failure("field 'before_seq' must be a positive integer") }
            return .success(.fetchMessages(.seq(seq)))
        }
        guard let stampValue = value["last_message_time_stamp"] else {
            return .failure("missing field 'last_message_time_stamp'")
        }
        guard let stampText = stampValue.stringValue else {
            return .failure("field 'last_message_time_stamp' must be a string: \"0\" or a date-time")
        }
        var messageID: Int64?
        if let idValue = value["last_message_id"], idValue != .null {
            guard let id = idValue.intValue else { return .failure("field 'last_message_id' must be an integer") }
            messageID = id
        }
        if stampText == "0" { return .success(.fetchMessages(nil)) }
        guard stampText.count <= 64, let stamp = Timestamp(parsing: stampText) else {
            return .failure("field 'last_message_time_stamp' must be \"0\" or an ISO 8601 date-time")
        }
        return .success(.fetchMessages(HistoryCursor(timeStamp: stamp, messageID: messageID)))
    }

    private static func parseNewMessage(_ value: JSONValue) -> Result<ClientCommand, SocketFrameError> {
        messageText(value["message"]).map(ClientCommand.newMessage)
    }

    /// A message's text by both sockets' rules: a string, not only white space, no control
    /// characters but newline and tab, at most ``Limits/messageCharacters``.
    static func messageText(_ field: JSONValue?) -> Result<String, SocketFrameError> {
        guard let field else { return .failure("missing field 'message'") }
        guard let text = field.stringValue else { return .failure("field 'message' must be a string") }
        guard !text.allSatisfy(\.isWhitespace) else { return .failure("field 'message' must not be empty") }
        guard !TextRules.hasForbiddenControlCharacter(text) else {
            return .failure("field 'message' must not hold control characters other than newline and tab")
        }
        guard text.count <= Limits.messageCharacters else {
            return .failure("field 'message' is longer than \(Limits.messageCharacters) characters")
        }
        return .success(text)
    }
}

/// What was wrong with a client's frame, sent back as `{"command": "error", "error": "..."}`.
struct SocketFrameError: Error, Equatable, ExpressibleByStringLiteral {
    let reason: String

    init(stringLiteral value: String) {
        self.reason = value
    }

    init(_ reason: String) {
        self.reason = reason
    }

    /// Seconds until the client may send again, for `rate_limited`.
    var retryAfter: Double?
    /// The text of a message refused (not stored), echoed as `"message"` so the client knows
    /// which one to send again: chat-socket messages carry no id of their own.
    var refusedMessage: String?

    /// This error, about the message `content`, which was not stored.
    func refusing(_ content: String) -> SocketFrameError {
        var error = self
        error.refusedMessage = content
        return error
    }

    /// The sender is over its message allowance: `{"command": "error", "error": "rate_limited", "retry_after": s}`.
    static func rateLimited(retryAfter: Duration) -> SocketFrameError {
        var error = SocketFrameError("rate_limited")
        let seconds = Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18
        error.retryAfter = (seconds * 1000).rounded(.up) / 1000
        return error
    }

    var frame: String {
        var members: [(String, JSONValue)] = [("command", "error"), ("error", .string(reason))]
        if let retryAfter { members.append(("retry_after", .double(retryAfter))) }
        if let refusedMessage { members.append(("message", .string(refusedMessage))) }
        return JSONValue.object(members).serialized
    }
}

extension Result where Failure == SocketFrameError {
    static func failure(_ reason: String) -> Self {
        .failure(SocketFrameError(reason))
    }
}

/// The frames the server sends.
enum ServerFrame {
    /// `{"command": "new_message", "message": message}`: encoded once, sent to every socket of the chat.
    static func newMessage(_ message: Message) -> String {
        JSONValue.object([("command", "new_message"), ("message", message.json)]).serialized
    }

    /// The answer to `fetch_messages`: a page newest first, with the cursors of its oldest message
    /// (time stamp, id and seq) and `LAST PACKAGE` / `NO MESSAGES` when the history ends.
    static func history(_ messages: [Message], requested cursor: HistoryCursor?, pageSize: Int) -> String {
        var members: [(String, JSONValue)] = [
            ("command", "fetch_messages"),
            ("messages", .array(messages.map(\.json))),
        ]
        if let oldest = messages.last {
            members.append(("last_message_time_stamp", .string(oldest.timeStamp.socketText)))
            members.append(("last_message_id", .int(oldest.id)))
            members.append(("last_message_seq", .int(oldest.seq)))
        } else {
            members += echo(of: cursor)
        }
        if messages.isEmpty {
            members.append(("error", "NO MESSAGES"))
        } else if messages.count < pageSize {
            members.append(("error", "LAST PACKAGE"))
        }
        return JSONValue.object(members).serialized
    }

    /// An empty page's cursor: the one given, so paging on from it stays at the end. The time stamp
    /// is always there, as the original's clients expect it.
    private static func echo(of cursor: HistoryCursor?) -> [(String, JSONValue)] {
        switch cursor {
        case nil:
            return [("last_message_time_stamp", .string(Timestamp.now.socketText))]
        case .timeStamp(let stamp, let id)?:
            return [("last_message_time_stamp", .string(stamp.socketText))] + (id.map { [("last_message_id", .int($0))] } ?? [])
        case .seq(let seq)?:
            // Nothing is older than the epoch: handed back as a time-stamp cursor, it still ends the history.
            return [("last_message_time_stamp", .string(Timestamp(microseconds: 0).socketText)), ("last_message_seq", .int(seq))]
        }
    }
}
