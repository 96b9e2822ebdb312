import ChatBackend
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// A user socket (`/ws/`) for load runs that behaves as a phone app does: it sends with a
/// `client_id`, can lose its connection at any moment (``reconnect()``) and comes back with
/// `resume` from the last `seq` it saw of each chat, sending again what was never acknowledged
/// (same `client_id`) and what was written while it was away. Of each frame it keeps only what
/// the invariants and the latencies need, as ``LoadSocket`` does.
public final class LoadUserSocket: Sendable {
    /// A message as it arrived.
    public struct Delivery: Sendable, Codable, Equatable {
        public var content: String
        public var seq: Int64?
        /// ``MonotonicTime`` nanoseconds.
        public var at: UInt64
        /// Its chat, by index in ``chats``.
        public var chat: Int
        /// The connection it came on (0, 1, …).
        public var connection: Int
    }

    /// An `ack`.
    public struct Ack: Sendable, Codable, Equatable {
        public var clientID: String
        public var chat: Int
        public var id: Int64
        public var seq: Int64
        public var connection: Int
    }

    /// A `resumed` frame, and how many messages had arrived before it.
    public struct Resumed: Sendable, Codable, Equatable {
        public var connection: Int
        public var chat: Int
        public var seq: Int64
        public var truncated: Bool
        /// Deliveries before it (all connections).
        public var after: Int
    }

    /// One connection: when its `hello` came, and where each chat started (hello's `last_seq`,
    /// or the position `resume` named; nil for a chat `hello` did not list).
    public struct Connection: Sendable, Codable, Equatable {
        public var number: Int
        /// ``MonotonicTime`` nanoseconds.
        public var openedAt: UInt64
        public var positions: [Int64?]
        public var resumed: Bool
    }

    private struct State {
        var deliveries: [Delivery] = []
        var lastSeq: [Int64?]
        var acks: [Ack] = []
        /// Sends by `client_id`, in order: their chat and content; and which were written.
        var sent: [String: (chat: Int, content: String)] = [:]
        var order: [String] = []
        var written: Set<String> = []
        var answered: Set<String> = []
        var unanswered = 0
        /// Chats the last `resume` named that are not yet answered `resumed`.
        var resuming = 0
        /// Sends made while the connection was down, sent once it is back.
        var queued: [String] = []
        var retried = 0
        var errorFrames: [String: Int] = [:]
        var refused: [String] = []
        var refusedByChat: [Int: Int] = [:]
        var resumed: [Resumed] = []
        var connections: [Connection] = []
        var hello: JSONValue?
        var pong = false
        var current = 0
        var down = false
        var outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation?
        var ending: LoadSocket.Ending?
        var closing = false
    }

    /// The chats this user takes part in, as the run set them up.
    public let chats: [String]
    private let chatIndex: [String: Int]
    private let url: String
    private let state: Mutex<State>
    private let delivered = Atomic<Int>(0)
    private let connection = Mutex<Task<Void, Never>?>(nil)

    /// Opens the user socket, waits for `hello` and starts it with `ping` (answered `pong`);
    /// throws if the server refuses it or does not answer within `timeout`.
    public init(url: String, chats: [String], timeout: Duration = .seconds(10)) async throws {
        self.url = url
        self.chats = chats
        chatIndex = Dictionary(uniqueKeysWithValues: chats.enumerated().map { ($0.element, $0.offset) })
        state = Mutex(State(lastSeq: Array(repeating: nil, count: chats.count)))
        try await open(number: 0)
        guard let hello = await waitForHello(timeout: timeout) else {
            await close()
            throw SimulatorError("no hello on the user socket within \(timeout)")
        }
        let positions = positions(in: hello)
        state.withLock { state in
            state.lastSeq = positions
            state.connections.append(Connection(number: 0, openedAt: MonotonicTime.now(), positions: positions, resumed: false))
        }
        write(#"{"command":"ping"}"#)
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ $0.pong }) {
            guard ContinuousClock.now < deadline, ending == nil else {
                await close()
                throw SimulatorError("no pong on the user socket within \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Sends a message to the chat `chat` (an index in ``chats``) with its idempotency key; while
    /// the connection is down it waits, and goes out once it is back.
    public func send(chat: Int, clientID: String, content: String) {
        let frame = Self.sendFrame(chat: chats[chat], clientID: clientID, content: content)
        let outgoing = state.withLock { state -> AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation? in
            state.sent[clientID] = (chat, content)
            state.order.append(clientID)
            state.unanswered += 1
            guard !state.down else {
                state.queued.append(clientID)
                return nil
            }
            state.written.insert(clientID)
            return state.outgoing
        }
        outgoing?.yield(.text(frame))
    }

    /// Loses the connection at once (no close handshake), opens a new one, and resumes every chat
    /// from the last `seq` seen of it; then sends again, with the same `client_id`, what was
    /// written and never answered, and sends what waited. Returns once that is written.
    public func reconnect(timeout: Duration = .seconds(10)) async {
        guard let old = state.withLock({ state -> Task<Void, Never>?? in
            guard state.ending == nil, !state.closing else { return nil }
            state.down = true
            state.outgoing?.finish()
            state.outgoing = nil
            return .some(connection.withLock { $0 })
        }) else { return }
        old?.cancel()
        await old?.value
        let (number, positions) = state.withLock { state -> (Int, [Int64?]) in
            state.current += 1
            state.hello = nil
            return (state.current, state.lastSeq)
        }
        do {
            try await open(number: number)
        } catch {
            state.withLock { $0.ending = LoadSocket.Ending(dropped: true, error: "reconnecting: \(error)", byClient: false) }
            return
        }
        guard await waitForHello(timeout: timeout) != nil else {
            state.withLock { $0.ending = $0.ending ?? LoadSocket.Ending(dropped: true, error: "no hello after reconnecting", byClient: false) }
            return
        }
        let named = zip(chats, positions).compactMap { chat, position in position.map { (chat, JSONValue.int($0)) } }
        write(JSONValue.object([("command", "resume"), ("chats", .object(named))]).serialized)
        let again = state.withLock { state -> [String] in
            state.resuming = named.count
            state.connections.append(Connection(number: number, openedAt: MonotonicTime.now(), positions: positions, resumed: true))
            state.down = false
            let retries = state.order.filter { state.written.contains($0) && !state.answered.contains($0) }
            state.retried += retries.count
            let waiting = state.queued
            state.queued = []
            state.written.formUnion(waiting)
            return (retries + waiting).compactMap { clientID in
                state.sent[clientID].map { Self.sendFrame(chat: chats[$0.chat], clientID: clientID, content: $0.content) }
            }
        }
        for frame in again { write(frame) }
    }

    private static func sendFrame(chat: String, clientID: String, content: String) -> String {
        JSONValue.object([("command", "send"), ("chat", .string(chat)), ("client_id", .string(clientID)), ("message", .string(content))]).serialized
    }

    private func write(_ text: String) {
        state.withLock { $0.outgoing }?.yield(.text(text))
    }

    /// Each chat's `last_seq` in a `hello`, by index in ``chats``.
    private func positions(in hello: JSONValue) -> [Int64?] {
        var positions = [Int64?](repeating: nil, count: chats.count)
        for chat in hello["chats"]?.arrayValue ?? [] {
            guard let uuid = chat["chat"]?.stringValue, let index = chatIndex[uuid] else { continue }
            positions[index] = chat["last_seq"]?.intValue
        }
        return positions
    }

    private func waitForHello(timeout: Duration) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (hello, ended) = state.withLock { ($0.hello, $0.ending != nil) }
            if let hello { return hello }
            if ended { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Opens connection `number` and returns once it is open.
    private func open(number: Int) async throws {
        let (outgoingStream, outgoing) = AsyncStream<WebSocketOutboundWriter.OutboundFrame>.makeStream()
        let (opened, openedContinuation) = AsyncStream<Result<Void, any Error>>.makeStream()
        state.withLock { $0.outgoing = outgoing }
        let url = self.url
        let task = Task { [self] in
            var ending: LoadSocket.Ending
            do {
                let frame = try await WebSocketPump.run(
                    url: url, logger: Logger(label: "chat-sim.load-user-socket"), outgoing: outgoingStream,
                    opened: { openedContinuation.yield(.success(())) },
                    receive: { self.receive($0, at: MonotonicTime.now(), connection: number) }
                )
                ending = LoadSocket.Ending(
                    code: frame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }, reason: frame?.reason, dropped: frame == nil, byClient: false
                )
            } catch {
                openedContinuation.yield(.failure(error))
                ending = LoadSocket.Ending(dropped: true, error: "\(error)", byClient: false)
            }
            openedContinuation.finish()
            state.withLock { state in
                // A connection this client dropped on purpose ends nothing: another follows it.
                guard state.current == number, !state.down else { return }
                ending.byClient = state.closing
                state.ending = state.ending ?? ending
            }
        }
        connection.withLock { $0 = task }
        var iterator = opened.makeAsyncIterator()
        switch await iterator.next() {
        case .success?: break
        case .failure(let error)?: throw error
        case nil: throw SimulatorError("the server closed the user socket \(url) before it opened")
        }
    }

    /// Keeps what the run needs of one text frame.
    private func receive(_ text: String, at time: UInt64, connection number: Int) {
        guard let frame = try? JSONValue.parse(Array(text.utf8)) else {
            state.withLock { $0.errorFrames["frame that is not JSON", default: 0] += 1 }
            return
        }
        let chat = frame["chat"]?.stringValue.flatMap { chatIndex[$0] }
        switch frame["command"]?.stringValue {
        case "message":
            let message = frame["message"]
            let seq = message?["seq"]?.intValue
            let delivery = Delivery(content: message?["content"]?.stringValue ?? frame.serialized, seq: seq, at: time, chat: chat ?? -1, connection: number)
            state.withLock { state in
                state.deliveries.append(delivery)
                if let chat, let seq { state.lastSeq[chat] = max(state.lastSeq[chat] ?? 0, seq) }
            }
            delivered.add(1, ordering: .relaxed)
        case "ack":
            guard let clientID = frame["client_id"]?.stringValue, let id = frame["id"]?.intValue, let seq = frame["seq"]?.intValue else {
                state.withLock { $0.errorFrames["ack without client_id, id or seq", default: 0] += 1 }
                return
            }
            state.withLock { state in
                state.acks.append(Ack(clientID: clientID, chat: chat ?? -1, id: id, seq: seq, connection: number))
                if state.answered.insert(clientID).inserted, state.sent[clientID] != nil { state.unanswered -= 1 }
            }
        case "resumed":
            guard let chat, let seq = frame["seq"]?.intValue else { return }
            state.withLock { state in
                state.resumed.append(Resumed(connection: number, chat: chat, seq: seq, truncated: frame["truncated"] == true, after: state.deliveries.count))
                if number == state.current { state.resuming = max(0, state.resuming - 1) }
            }
        case "hello":
            state.withLock { $0.hello = frame }
        case "pong":
            state.withLock { $0.pong = true }
        case "error":
            state.withLock { state in
                state.errorFrames["error frame: \(frame["error"]?.stringValue ?? "?")", default: 0] += 1
                // A send the server refused, saying so: not stored, not to be waited for.
                guard let clientID = frame["client_id"]?.stringValue, let sent = state.sent[clientID], state.answered.insert(clientID).inserted else { return }
                state.unanswered -= 1
                state.refused.append(sent.content)
                state.refusedByChat[sent.chat, default: 0] += 1
            }
        default:
            break
        }
    }

    /// How many messages have arrived, over every connection (cheap: a counter).
    public var deliveryCount: Int { delivered.load(ordering: .relaxed) }

    /// Sends not yet acknowledged nor refused.
    public var unanswered: Int { state.withLock { $0.unanswered } }

    /// What the socket still waits for: sends not yet answered, and chats of its last `resume`
    /// not yet answered `resumed`.
    public var outstanding: Int { state.withLock { $0.unanswered + $0.resuming } }

    /// The messages received so far, in order, over every connection.
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// Every `ack`, retries' included.
    public var acks: [Ack] { state.withLock { $0.acks } }

    /// Every `resumed`.
    public var resumed: [Resumed] { state.withLock { $0.resumed } }

    /// Every connection, the first and those of each reconnect.
    public var connections: [Connection] { state.withLock { $0.connections } }

    /// Sends made again after a reconnect because they had not been answered.
    public var retriedCount: Int { state.withLock { $0.retried } }

    /// The `client_id`s sent, in order, with their chats' indexes.
    public var sends: [(clientID: String, chat: Int)] {
        state.withLock { state in state.order.map { ($0, state.sent[$0]!.chat) } }
    }

    /// The sends never acknowledged nor refused.
    public var unansweredIDs: [String] {
        state.withLock { state in state.order.filter { !state.answered.contains($0) } }
    }

    /// Messages the server refused, saying so.
    public var refused: [String] { state.withLock { $0.refused } }

    /// How many messages of each chat (by index) the server refused.
    public var refusedByChat: [Int: Int] { state.withLock { $0.refusedByChat } }

    /// Error frames and frames outside the contract, by kind.
    public var errorFrames: [String: Int] { state.withLock { $0.errorFrames } }

    /// How the socket ended (not a reconnect); nil while it is open.
    public var ending: LoadSocket.Ending? { state.withLock { $0.ending } }

    /// Closes the socket and waits for the connection to end, at most `timeout`.
    public func close(timeout: Duration = .seconds(5)) async {
        let task = state.withLock { state in
            state.closing = true
            state.outgoing?.finish()
            return connection.withLock { $0 }
        }
        guard let task else { return }
        let timer = Task {
            try await Task.sleep(for: timeout)
            task.cancel()
        }
        await task.value
        timer.cancel()
    }
}
