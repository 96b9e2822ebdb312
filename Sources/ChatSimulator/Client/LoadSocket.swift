import ChatBackend
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// A chat socket for load runs: it keeps, of each frame, only what the invariant checks and the
/// latencies need (a broadcast's content, its `seq` and its arrival on ``MonotonicTime``), and
/// counts broadcasts as they arrive, so waiting for the last deliveries is cheap.
///
/// The receiving loop stays short on purpose: the WebSocket client answers the server's pings
/// only as it reads frames, in order, so a client that falls behind its inbound frames answers
/// pings late and the server closes the socket ("Ping timeout").
public final class LoadSocket: Sendable {
    /// A broadcast as it arrived.
    public struct Delivery: Sendable, Codable, Equatable {
        public var content: String
        public var seq: Int64?
        /// ``MonotonicTime`` nanoseconds.
        public var at: UInt64
    }

    /// How the connection ended.
    public struct Ending: Sendable, Codable, Equatable {
        /// The close frame's code, if the server sent one.
        public var code: Int?
        public var reason: String?
        /// Whether the connection ended without a close frame (dropped, or failed).
        public var dropped: Bool
        /// What went wrong, when the connection failed with an error.
        public var error: String?
        /// Whether this client asked to close it.
        public var byClient: Bool

        /// `close 1011 "Ping timeout"` or `connection dropped without a close frame`.
        public var description: String {
            if dropped { return "connection dropped without a close frame" + (error.map { " (\($0))" } ?? "") }
            return "close \(code.map(String.init) ?? "?")" + (reason.map { $0.isEmpty ? "" : " \"\($0)\"" } ?? "")
        }
    }

    /// What arrived: shared by the receiving task and the socket's users, hence a class of locks.
    private final class Inbox: Sendable {
        let state = Mutex(State())
        /// Broadcasts so far, readable without the lock.
        let delivered = Atomic<Int>(0)
    }

    private struct State {
        var deliveries: [Delivery] = []
        var errorFrames: [String: Int] = [:]
        /// Messages the server said it did not store (an error frame echoing their text).
        var refused: [String] = []
        /// Who waits for the next `fetch_messages` answer.
        var fetchWaiter: CheckedContinuation<JSONValue?, Never>?
        var ending: Ending?
        var closing = false
    }

    private let inbox = Inbox()
    private let outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation
    private let connection: Task<Void, Never>

    /// Opens a socket to `url` and returns once it is open; throws if the server refuses it.
    public convenience init(url: String) async throws {
        try await self.init(SocketEndpoint(url: url))
    }

    /// Opens a socket to the endpoint (its URL, with its headers) and returns once it is open;
    /// throws if the server refuses it.
    public init(_ endpoint: SocketEndpoint) async throws {
        let url = endpoint.url
        let (outgoingStream, outgoing) = AsyncStream<WebSocketOutboundWriter.OutboundFrame>.makeStream()
        let (opened, openedContinuation) = AsyncStream<Result<Void, any Error>>.makeStream()
        let inbox = self.inbox
        self.outgoing = outgoing
        self.connection = Task {
            var ending: Ending
            do {
                let frame = try await WebSocketPump.run(
                    url: url, headers: endpoint.fields, logger: Logger(label: "chat-sim.load-socket"), outgoing: outgoingStream,
                    opened: { openedContinuation.yield(.success(())) },
                    receive: { Self.receive($0, at: MonotonicTime.now(), inbox: inbox) }
                )
                ending = Ending(code: frame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }, reason: frame?.reason, dropped: frame == nil, byClient: false)
            } catch {
                openedContinuation.yield(.failure(error))
                ending = Ending(dropped: true, error: "\(error)", byClient: false)
            }
            openedContinuation.finish()
            let waiter = inbox.state.withLock { inbox in
                ending.byClient = inbox.closing
                inbox.ending = ending
                defer { inbox.fetchWaiter = nil }
                return inbox.fetchWaiter
            }
            waiter?.resume(returning: nil)
        }
        var iterator = opened.makeAsyncIterator()
        switch await iterator.next() {
        case .success?: break
        case .failure(let error)?: throw error
        case nil: throw SimulatorError("the server closed the socket \(url) before it opened")
        }
    }

    /// Keeps what the run needs of one text frame.
    private static func receive(_ text: String, at time: UInt64, inbox: Inbox) {
        guard let frame = try? JSONValue.parse(Array(text.utf8)) else {
            inbox.state.withLock { $0.errorFrames["frame that is not JSON", default: 0] += 1 }
            return
        }
        switch frame["command"]?.stringValue {
        case "new_message":
            let message = frame["message"]
            let delivery = Delivery(content: message?["content"]?.stringValue ?? frame.serialized, seq: message?["seq"]?.intValue, at: time)
            inbox.state.withLock { $0.deliveries.append(delivery) }
            inbox.delivered.add(1, ordering: .relaxed)
        case "fetch_messages":
            answerFetch(frame, inbox: inbox)
        case "error":
            inbox.state.withLock { state in
                state.errorFrames["error frame: \(frame["error"]?.stringValue ?? "?")", default: 0] += 1
                if let refused = frame["message"]?.stringValue { state.refused.append(refused) }
            }
        default:
            break
        }
    }

    /// Sends `new_message` with this content.
    public func sendMessage(_ content: String) {
        outgoing.yield(.text(JSONValue.object([("command", "new_message"), ("message", .string(content))]).serialized))
    }

    /// Asks for the newest page of the chat (`fetch_messages`) and waits for the answer: what a
    /// client does on opening a chat, and proof the socket works. Nil: no answer within `timeout`.
    public func fetchNewest(timeout: Duration = .seconds(10)) async -> JSONValue? {
        await withCheckedContinuation { continuation in
            let ended = inbox.state.withLock { inbox in
                if inbox.ending != nil { return true }
                inbox.fetchWaiter = continuation
                return false
            }
            if ended { return continuation.resume(returning: nil) }
            // Registered before the timer starts, so the timer cannot miss it; an answer first
            // takes the waiter, and the timer then finds none.
            let inbox = self.inbox
            Task {
                try? await Task.sleep(for: timeout)
                Self.answerFetch(nil, inbox: inbox)
            }
            outgoing.yield(.text(#"{"command":"fetch_messages","last_message_time_stamp":"0"}"#))
        }
    }

    /// Hands `answer` to whoever waits for a `fetch_messages` answer, if anyone does.
    private static func answerFetch(_ answer: JSONValue?, inbox: Inbox) {
        let waiter = inbox.state.withLock { inbox in
            defer { inbox.fetchWaiter = nil }
            return inbox.fetchWaiter
        }
        waiter?.resume(returning: answer)
    }

    /// How many broadcasts have arrived (cheap: a counter).
    public var deliveryCount: Int { inbox.delivered.load(ordering: .relaxed) }

    /// The broadcasts received so far, in order.
    public var deliveries: [Delivery] { inbox.state.withLock { $0.deliveries } }

    /// The messages the server refused, saying so (their text echoed in an error frame).
    public var refused: [String] { inbox.state.withLock { $0.refused } }

    /// How many messages the server refused (cheap: no copy).
    public var refusedCount: Int { inbox.state.withLock { $0.refused.count } }

    /// Error frames and frames outside the contract, by kind.
    public var errorFrames: [String: Int] { inbox.state.withLock { $0.errorFrames } }

    /// How the connection ended; nil while it is open.
    public var ending: Ending? { inbox.state.withLock { $0.ending } }

    /// Closes the socket and waits for the connection to end, at most `timeout` (then it is
    /// dropped): a server that never answers the close cannot hold the run.
    public func close(timeout: Duration = .seconds(5)) async {
        inbox.state.withLock { $0.closing = true }
        outgoing.finish()
        let connection = self.connection
        let timer = Task {
            try await Task.sleep(for: timeout)
            connection.cancel()
        }
        await connection.value
        timer.cancel()
    }
}
