import ChatBackend
import HummingbirdWSClient
import Logging
import Synchronization

/// Signed-in sockets sending `new_message` frames as fast as the server answers them, into a
/// chat of their own (so the normal users' chats see none of it, only its cost). A socket the
/// server closes is opened again.
struct FrameFlood: Sendable {
    /// The socket URL of the flooder's chat, its token in the query.
    let socketURL: String
    let sockets: Int
    let tally: HostileTally

    /// Frames sent and not yet answered, at most: enough to keep the server busy, and a bound on
    /// what this process buffers when the server slows down.
    static let window = 256

    func run(until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<sockets {
                group.addTask { await flood(as: index, until: deadline) }
            }
        }
    }

    private func flood(as index: Int, until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let answers = Answers()
            do {
                try await WebSocketClient.connect(url: socketURL, configuration: .init(maxFrameSize: 1 << 20), logger: Logger(label: "chat-sim.hostile")) {
                    inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                guard case .text(let text) = message else { continue }
                                answers.count(text, in: tally)
                            }
                            answers.closed.store(true, ordering: .releasing)
                        }
                        var sent = 0
                        while ContinuousClock.now < deadline, !Task.isCancelled, !answers.closed.load(ordering: .acquiring) {
                            if sent - answers.total.load(ordering: .relaxed) >= Self.window {
                                try await Task.sleep(for: .milliseconds(1))
                                continue
                            }
                            sent += 1
                            try await outbound.write(.text(#"{"command": "new_message", "message": "flood \#(index) #\#(sent)"}"#))
                            tally.update { $0.attempts += 1 }
                        }
                        if !answers.closed.load(ordering: .acquiring) { try await outbound.close(.normalClosure, reason: nil) }
                        group.cancelAll()
                    }
                }
                if answers.closed.load(ordering: .acquiring), ContinuousClock.now < deadline { tally.update { $0.closedByServer += 1 } }
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { return }
                tally.update { $0.count(error: "socket: \(error)") }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// What one socket of the flood has been answered, counted by its reading task.
    private final class Answers: Sendable {
        let total = Atomic<Int>(0)
        /// Whether the server ended the socket.
        let closed = Atomic<Bool>(false)

        func count(_ text: String, in tally: HostileTally) {
            total.add(1, ordering: .relaxed)
            let frame = try? JSONValue.parse(Array(text.utf8))
            tally.update {
                switch (frame?["command"]?.stringValue, frame?["error"]?.stringValue) {
                case ("new_message", _): $0.framesStored += 1
                case ("error", "rate_limited"): $0.framesRateLimited += 1
                case ("error", let error): $0.count(error: "error frame: \(error ?? "?")")
                default: $0.count(error: "unexpected frame")
                }
            }
        }
    }
}
