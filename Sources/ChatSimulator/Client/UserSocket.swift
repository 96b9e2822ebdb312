import ChatBackend
import Foundation
import Synchronization

/// One real connection to the user socket, `/ws/` (PROTOCOL.md): every chat of one person on one
/// connection. The ``ChatSocket`` underneath receives and records every frame with its arrival
/// time; this adds the user socket's commands, and what the frames say (the last `seq` seen of
/// each chat, the answers to `history`).
public final class UserSocket: Sendable {
    /// The connection, and every frame it received.
    public let socket: ChatSocket
    /// The `hello` frame, the first the server sends.
    public let hello: JSONValue
    /// The positions a `resume` named: where those chats started.
    private let resumedFrom = Mutex<[String: Int64]>([:])

    /// Opens the user socket at `url` (``ChatClient/userSocketURL``) and waits for `hello`; throws
    /// when the server refuses the socket or sends no `hello` within `timeout`. The server sends
    /// nothing else until the client's first frame: send one (``start(timeout:)`` or
    /// ``resume(_:)``) before waiting for anything.
    public init(url: String, timeout: Duration = .seconds(10)) async throws {
        let socket = try await ChatSocket(url: url)
        let said = await socket.wait(timeout: timeout) { frames in frames.contains { $0.frame["command"] == "hello" } }
        guard said, let hello = socket.received.first(where: { $0.frame["command"] == "hello" }) else {
            await socket.close()
            throw SimulatorError("no hello on the user socket within \(timeout)")
        }
        self.socket = socket
        self.hello = hello.frame
    }

    /// A chat as `hello` listed it.
    public struct ChatState: Sendable, Equatable {
        public var chat: String
        public var lastSeq: Int64
        public var readSeq: Int64
        public var unread: Int64
    }

    /// The chats `hello` listed, with the user's state in each.
    public var helloChats: [ChatState] {
        (hello["chats"]?.arrayValue ?? []).compactMap { chat in
            guard let uuid = chat["chat"]?.stringValue, let lastSeq = chat["last_seq"]?.intValue else { return nil }
            return ChatState(chat: uuid, lastSeq: lastSeq, readSeq: chat["read_seq"]?.intValue ?? 0, unread: chat["unread"]?.intValue ?? 0)
        }
    }

    /// Starts the feed with a first frame, `ping`, and waits for its `pong`: from then on every
    /// chat is live from its `hello` position. False when no `pong` came within `timeout`.
    public func start(timeout: Duration = .seconds(10)) async -> Bool {
        let before = socket.count
        socket.send(["command": "ping"])
        return await socket.wait(timeout: timeout) { frames in frames.dropFirst(before).contains { $0.frame["command"] == "pong" } }
    }

    /// Sends `resume` (as the first frame): each chat named is replayed after its position, then
    /// `resumed`, then live.
    public func resume(_ positions: [String: Int64]) {
        resumedFrom.withLock { $0.merge(positions) { _, new in new } }
        socket.send(["command": "resume", "chats": .object(positions.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })])
    }

    /// Sends `send`: a message to a chat, with its idempotency key.
    public func send(chat: String, clientID: String, message: String) {
        socket.send(["command": "send", "chat": .string(chat), "client_id": .string(clientID), "message": .string(message)])
    }

    /// Sends any command of the user socket (`edit`, `delete`, `typing`, `read`, …).
    public func send(_ frame: JSONValue) {
        socket.send(frame)
    }

    /// Every frame received so far, `hello` first.
    public var received: [ChatSocket.Received] { socket.received }

    /// How many frames have arrived.
    public var count: Int { socket.count }

    /// Waits until `condition` holds for the frames received, or `timeout` passes; returns whether it held.
    public func wait(timeout: Duration, until condition: ([ChatSocket.Received]) -> Bool) async -> Bool {
        await socket.wait(timeout: timeout, until: condition)
    }

    /// The first frame after the first `after` frames that satisfies `predicate`, waiting up to
    /// `timeout` for it; nil when none came.
    public func next(after: Int, timeout: Duration, where predicate: (JSONValue) -> Bool) async -> JSONValue? {
        _ = await socket.wait(timeout: timeout) { frames in frames.dropFirst(after).contains { predicate($0.frame) } }
        return socket.received.dropFirst(after).first { predicate($0.frame) }?.frame
    }

    /// Asks for one page of a chat's history (`history`, newest first, before `beforeSeq`) and
    /// returns the answer: the `history` frame, or an `error` frame naming the chat.
    public func history(chat: String, beforeSeq: Int64? = nil, limit: Int? = nil, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let before = socket.count
        var frame: [(String, JSONValue)] = [("command", "history"), ("chat", .string(chat))]
        if let beforeSeq { frame.append(("before_seq", .int(beforeSeq))) }
        if let limit { frame.append(("limit", .int(Int64(limit)))) }
        socket.send(.object(frame))
        let answer = await next(after: before, timeout: timeout) { frame in
            (frame["command"] == "history" || frame["command"] == "error") && frame["chat"]?.stringValue == chat
        }
        guard let answer else { throw SimulatorError("no answer to history of chat \(chat) within \(timeout)") }
        return answer
    }

    /// The newest `seq` this connection has seen of each chat it follows: what a client names in
    /// `resume` after losing the connection. A chat without a message since starts at its
    /// position in `hello` (or `resume`, or the `added` event); a chat left is not followed.
    public var lastSeqSeen: [String: Int64] {
        var seen = Dictionary(uniqueKeysWithValues: helloChats.map { ($0.chat, $0.lastSeq) })
        seen.merge(resumedFrom.withLock { $0 }) { _, resumed in resumed }
        for received in socket.received {
            let frame = received.frame
            switch frame["command"]?.stringValue {
            case "message":
                guard let chat = frame["chat"]?.stringValue, let seq = frame["message"]?["seq"]?.intValue else { continue }
                seen[chat] = max(seen[chat] ?? 0, seq)
            case "chat":
                guard let chat = frame["chat"]?["uuid"]?.stringValue else { continue }
                switch frame["event"]?.stringValue {
                case "added": seen[chat] = max(seen[chat] ?? 0, frame["chat"]?["last_seq"]?.intValue ?? 0)
                case "removed": seen[chat] = nil
                default: continue
                }
            default:
                continue
            }
        }
        return seen
    }

    /// Closes the socket and waits for the connection to end.
    public func close() async {
        await socket.close()
    }

    /// Drops the connection at once (``ChatSocket/drop()``): nothing arrives after it returns.
    public func drop() async {
        await socket.drop()
    }

    /// Whether the connection has ended.
    public var isClosed: Bool { socket.isClosed }
}
