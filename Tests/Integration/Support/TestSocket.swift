import ChatBackend
import ChatSimulator
import HummingbirdWSClient

/// The simulator's socket client, with the step-by-step helpers integration tests use.
final class TestSocket: Sendable {
    private let socket: ChatSocket

    init(_ socket: ChatSocket) {
        self.socket = socket
    }

    /// Connects to a chat's socket with a token in the query (or none), and waits until it is open.
    static func connect(port: Int, chat: String, token: String?) async throws -> TestSocket {
        let client = ChatClient(baseURL: "http://127.0.0.1:\(port)", token: token)
        return TestSocket(try await ChatSocket(url: client.socketURL(chatUUID: chat)))
    }

    /// Connects to the user socket, `/ws/`, and waits until it is open.
    static func connectUser(port: Int, token: String?) async throws -> TestSocket {
        TestSocket(try await ChatSocket(url: ChatClient(baseURL: "http://127.0.0.1:\(port)", token: token).userSocketURL))
    }

    /// Waits (up to `timeout`) for a frame that satisfies `predicate`, and returns the first one.
    func first(timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (JSONValue) -> Bool) async throws -> JSONValue {
        guard await socket.wait(timeout: timeout, until: { $0.contains { predicate($0.frame) } }), let frame = all.first(where: predicate) else {
            throw TestFailure("no such frame among \(all.map(\.serialized))")
        }
        return frame
    }

    /// Waits for the frames with `command`, until `count` have come; returns them all.
    func frames(command: String, count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        let matching: @Sendable (JSONValue) -> Bool = { $0["command"]?.stringValue == command }
        guard await socket.wait(timeout: timeout, until: { $0.filter { matching($0.frame) }.count >= count }) else {
            throw TestFailure("expected \(count) '\(command)' frames, got \(all.map(\.serialized))")
        }
        return all.filter(matching)
    }

    /// Sends a text frame as-is.
    func send(_ text: String) {
        socket.sendRaw(text)
    }

    /// Sends a JSON frame.
    func send(_ json: JSONValue) {
        socket.send(json)
    }

    /// Sends a binary frame.
    func sendBinary(_ bytes: [UInt8]) {
        socket.sendBinary(bytes)
    }

    /// Waits (up to `timeout`) until `count` frames have arrived, and returns every frame so far.
    func frames(count: Int, timeout: Duration = .seconds(10)) async throws -> [JSONValue] {
        guard await socket.wait(timeout: timeout, until: { $0.count >= count }) else {
            throw TestFailure("expected \(count) frames, got \(all.map(\.serialized))")
        }
        return all
    }

    /// The next frame after the `already` seen ones.
    func next(after already: Int, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await frames(count: already + 1, timeout: timeout)[already]
    }

    /// Every frame so far.
    var all: [JSONValue] {
        socket.received.map(\.frame)
    }

    /// Whether the connection has ended.
    var isClosed: Bool {
        socket.isClosed
    }

    /// Sends `fetch_messages` and returns the answer.
    func fetch(_ stamp: String = "0", id: Int64? = nil) async throws -> JSONValue {
        try await socket.fetch(stamp: stamp, id: id)
    }

    /// Sends `fetch_messages` with a `before_seq` cursor and returns the answer.
    func fetch(beforeSeq seq: Int64) async throws -> JSONValue {
        try await socket.fetch(beforeSeq: seq)
    }

    /// Waits until the server closes the socket, and returns its close frame.
    func closedByServer(timeout: Duration = .seconds(10)) async throws -> WebSocketCloseFrame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let closing = socket.closing { return closing }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("socket still open")
    }

    /// Closes the socket from the client side and waits for the connection to end.
    func close() async {
        await socket.close()
    }
}
