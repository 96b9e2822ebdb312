import ChatBackend
import Foundation
import NIOCore
import HummingbirdWSClient
import Logging
import Synchronization

/// A real WebSocket client on the chat socket, driven step by step from a test.
final class TestSocket: Sendable {
    /// What the connection task has seen, shared with the test.
    private final class Inbox: Sendable {
        let received = Mutex<[String]>([])
        let closeFrame = Mutex<WebSocketCloseFrame??>(nil)
    }

    private let inbox = Inbox()
    private let outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation
    private let connection: Task<Void, any Error>

    /// Connects to a chat's socket with a token in the query (or none), and waits until it is open.
    init(port: Int, chat: String, token: String?) async throws {
        let (outgoingStream, outgoing) = AsyncStream<WebSocketOutboundWriter.OutboundFrame>.makeStream()
        let (opened, openedContinuation) = AsyncStream<Void>.makeStream()
        let inbox = self.inbox
        let query = token.map { "?token=\($0)" } ?? ""
        self.outgoing = outgoing
        self.connection = Task {
            defer { openedContinuation.finish() }
            let frame = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ws/chat/\(chat)/\(query)",
                configuration: .init(maxFrameSize: 1 << 20),
                logger: Logger(label: "test-socket")
            ) { inbound, outbound, _ in
                openedContinuation.yield()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await frame in outgoingStream { try await outbound.write(frame) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { inbox.received.withLock { $0.append(text) } }
                    }
                    group.cancelAll()
                }
            }
            inbox.closeFrame.withLock { $0 = .some(frame) }
        }
        var iterator = opened.makeAsyncIterator()
        guard await iterator.next() != nil else {
            try await connection.value
            throw TestFailure("socket closed before opening")
        }
    }

    /// Connects to a chat's socket with a token in the query (or none), and waits until it is open.
    static func connect(port: Int, chat: String, token: String?) async throws -> TestSocket {
        try await TestSocket(port: port, chat: chat, token: token)
    }

    /// Sends a text frame.
    func send(_ text: String) {
        outgoing.yield(.text(text))
    }

    /// Sends a binary frame.
    func sendBinary(_ bytes: [UInt8]) {
        outgoing.yield(.binary(ByteBuffer(bytes: bytes)))
    }

    /// Sends a JSON frame.
    func send(_ json: JSONValue) {
        send(json.serialized)
    }

    /// Waits (up to `timeout`) until `count` frames have arrived, and returns every frame so far.
    func frames(count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + timeout
        while inbox.received.withLock({ $0.count }) < count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("expected \(count) frames, got \(inbox.received.withLock { $0 })")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return all
    }

    /// The next frame after the `already` seen ones.
    func next(after already: Int, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await frames(count: already + 1, timeout: timeout)[already]
    }

    /// Every frame so far.
    var all: [JSONValue] {
        inbox.received.withLock { $0 }.map { (try? JSONValue.parse(Array($0.utf8))) ?? .null }
    }

    /// Sends `fetch_messages` and returns the answer (the next frame).
    func fetch(_ stamp: String = "0", id: Int64? = nil) async throws -> JSONValue {
        let before = inbox.received.withLock { $0.count }
        var command: [(String, JSONValue)] = [("command", "fetch_messages"), ("last_message_time_stamp", .string(stamp))]
        if let id { command.append(("last_message_id", .int(id))) }
        send(.object(command))
        return try await next(after: before)
    }

    /// Waits until the server closes the socket, and returns its close frame.
    func closedByServer(timeout: Duration = .seconds(10)) async throws -> WebSocketCloseFrame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = inbox.closeFrame.withLock({ $0 }) { return frame }
            guard ContinuousClock.now < deadline else { throw TestFailure("socket still open") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Closes the socket from the client side and waits for the connection to end.
    func close() async {
        outgoing.finish()
        _ = try? await connection.value
    }
}
