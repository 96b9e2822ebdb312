import ChatBackend
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// One real WebSocket on a chat, recording every frame it receives with its arrival time.
public final class ChatSocket: Sendable {
    /// A frame as it arrived.
    public struct Received: Sendable {
        public var frame: JSONValue
        public var at: ContinuousClock.Instant
    }

    private final class Inbox: Sendable {
        let frames = Mutex<[Received]>([])
        let closed = Mutex<WebSocketCloseFrame??>(nil)
    }

    private let inbox = Inbox()
    private let outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation
    private let connection: Task<Void, any Error>
    /// When the socket opened.
    public let openedAt: ContinuousClock.Instant

    /// Opens a socket to `url` and returns once it is open; throws if the server refuses it.
    public convenience init(url: String) async throws {
        try await self.init(SocketEndpoint(url: url))
    }

    /// Opens a socket to the endpoint (its URL, with its headers) and returns once it is open;
    /// throws if the server refuses it.
    public init(_ endpoint: SocketEndpoint) async throws {
        let url = endpoint.url
        let (outgoingStream, outgoing) = AsyncStream<WebSocketOutboundWriter.OutboundFrame>.makeStream()
        let (opened, openedContinuation) = AsyncStream<Void>.makeStream()
        let inbox = self.inbox
        self.outgoing = outgoing
        self.connection = Task {
            defer { openedContinuation.finish() }
            let frame = try await WebSocketPump.run(
                url: url, headers: endpoint.fields, logger: Logger(label: "chat-sim.socket"), outgoing: outgoingStream,
                opened: { openedContinuation.yield() },
                receive: { text in
                    let received = Received(frame: (try? JSONValue.parse(Array(text.utf8))) ?? .string(text), at: .now)
                    inbox.frames.withLock { $0.append(received) }
                }
            )
            inbox.closed.withLock { $0 = .some(frame) }
        }
        var iterator = opened.makeAsyncIterator()
        guard await iterator.next() != nil else {
            try await connection.value
            throw SimulatorError("the server closed the socket \(url) before it opened")
        }
        openedAt = .now
    }

    /// Sends a JSON frame.
    public func send(_ frame: JSONValue) {
        outgoing.yield(.text(frame.serialized))
    }

    /// Sends a text frame as-is.
    public func sendRaw(_ text: String) {
        outgoing.yield(.text(text))
    }

    /// Sends a binary frame (which the contract does not allow: for testing servers).
    public func sendBinary(_ bytes: [UInt8]) {
        outgoing.yield(.binary(ByteBuffer(bytes: bytes)))
    }

    /// How the connection ended: nil while open; then the close frame, if the peer sent one.
    public var closing: WebSocketCloseFrame?? {
        inbox.closed.withLock { $0 }
    }

    /// Every frame received so far.
    public var received: [Received] {
        inbox.frames.withLock { $0 }
    }

    /// How many frames have arrived.
    public var count: Int {
        inbox.frames.withLock { $0.count }
    }

    /// Whether the server has closed the socket.
    public var isClosed: Bool {
        inbox.closed.withLock { $0 != nil }
    }

    /// Waits until `condition` holds for the received frames, or `timeout` passes; returns whether it held.
    public func wait(timeout: Duration, until condition: ([Received]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.frames.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return inbox.frames.withLock { condition($0) }
    }

    /// Sends `fetch_messages` with the original's time-stamp cursor and returns the answer.
    public func fetch(stamp: String = "0", id: Int64? = nil, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        var cursor: [(String, JSONValue)] = [("last_message_time_stamp", .string(stamp))]
        if let id { cursor.append(("last_message_id", .int(id))) }
        return try await fetch(cursor, timeout: timeout)
    }

    /// Sends `fetch_messages` with a `before_seq` cursor (servers that number messages) and returns the answer.
    public func fetch(beforeSeq seq: Int64, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await fetch([("before_seq", .int(seq))], timeout: timeout)
    }

    private func fetch(_ cursor: [(String, JSONValue)], timeout: Duration) async throws -> JSONValue {
        let before = count
        send(.object([("command", "fetch_messages")] + cursor))
        let answered = await wait(timeout: timeout) { frames in
            frames.dropFirst(before).contains { $0.frame["command"] == "fetch_messages" }
        }
        guard answered, let answer = received.dropFirst(before).first(where: { $0.frame["command"] == "fetch_messages" }) else {
            throw SimulatorError("no answer to fetch_messages within \(timeout)")
        }
        return answer.frame
    }

    /// Walks the chat's whole history with `fetch_messages`, from the newest page, passing each
    /// page's cursor back, until `NO MESSAGES` or a page without a cursor; at most `maximumPages`,
    /// so a server that never ends its history cannot hold the client forever. Returns the pages.
    public func historyPages(maximumPages: Int = 10_000) async throws -> [JSONValue] {
        var pages: [JSONValue] = []
        var cursor: (String, Int64?) = ("0", nil)
        while pages.count < maximumPages {
            let page = try await fetch(stamp: cursor.0, id: cursor.1)
            pages.append(page)
            guard page["error"] != "NO MESSAGES", let stamp = page["last_message_time_stamp"]?.stringValue else { break }
            cursor = (stamp, page["last_message_id"]?.intValue)
        }
        return pages
    }

    /// Closes the socket and waits for the connection to end.
    public func close() async {
        outgoing.finish()
        _ = try? await connection.value
    }

    /// Drops the connection at once, as a phone losing its network does: frames not yet written
    /// stay unsent, frames on their way are lost, and no close handshake takes place. Returns once
    /// the connection has ended, so nothing arrives after it.
    public func drop() async {
        connection.cancel()
        outgoing.finish()
        _ = try? await connection.value
    }
}

/// A failure of the simulator itself (not of the server under test), said plainly.
public struct SimulatorError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
