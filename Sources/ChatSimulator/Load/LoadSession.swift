import Foundation
import Synchronization

/// One worker's part of a load run: its sockets, opened; then its share of the schedule sent on
/// time, and the wait for the last broadcasts, bounded by one deadline for all its sockets.
final class LoadSession: Sendable {
    let worker: Int
    private let name: String
    private let includesServer: Bool
    /// The sockets that opened, by index, with their chats.
    private let sockets: [(index: Int, socket: LoadSocket)]
    private let chatOf: [Int: String]
    private let sent = Atomic<Int>(0)

    private init(worker: Int, name: String, includesServer: Bool, sockets: [(index: Int, socket: LoadSocket)], chatOf: [Int: String]) {
        self.chatOf = chatOf
        self.worker = worker
        self.name = name
        self.includesServer = includesServer
        self.sockets = sockets
    }

    /// Opens the setup's sockets, one after the other, each answering a first `fetch_messages`.
    static func open(_ setup: WorkerSetup) async -> (LoadSession, WorkerReady) {
        var sockets: [(index: Int, socket: LoadSocket)] = []
        var ready = WorkerReady(opened: [], refused: [], connectMicroseconds: [])
        for spec in setup.sockets {
            let started = MonotonicTime.now()
            do {
                let socket = try await LoadSocket(spec.endpoint)
                guard await socket.fetchNewest() != nil else {
                    ready.refused.append(.init(index: spec.index, reason: "no answer to fetch_messages"))
                    await socket.close()
                    continue
                }
                ready.connectMicroseconds.append((MonotonicTime.now() - started) / 1000)
                ready.opened.append(spec.index)
                sockets.append((spec.index, socket))
            } catch {
                ready.refused.append(.init(index: spec.index, reason: "socket refused"))
            }
        }
        return (LoadSession(worker: setup.worker, name: setup.name, includesServer: setup.includesServer, sockets: sockets,
            chatOf: Dictionary(uniqueKeysWithValues: setup.sockets.map { ($0.index, $0.chat) })
        ), ready)
    }

    /// Messages sent so far, and broadcasts received.
    var progress: (sent: Int, received: Int) {
        (sent.load(ordering: .relaxed), sockets.reduce(0) { $0 + $1.socket.deliveryCount })
    }

    /// By chat, the messages this worker's sockets sent that no one here waits for: those the server
    /// refused (and said so), and those sent from sockets that have ended since. One pass over the
    /// sockets for all chats, so the drain's poll stays linear in the sockets.
    private func notExpectedPerChat(_ sentBy: [Int: Int]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (index, socket) in sockets {
            guard let chat = chatOf[index] else { continue }
            let gone = socket.ending != nil ? sentBy[index, default: 0] : 0
            counts[chat, default: 0] += socket.refusedCount + gone
        }
        return counts
    }

    /// Sends the share on schedule, waits for the expected broadcasts until the drain's deadline,
    /// records what every socket got, and closes them.
    func run(_ plan: WorkerStart) async -> WorkerRecording {
        let start = MonotonicTime.instant(of: plan.start)
        try? await Task.sleep(until: start, clock: .continuous)
        let cpu = CPUStopwatch()
        let byIndex = Dictionary(uniqueKeysWithValues: sockets.map { ($0.index, $0.socket) })
        var expected = Dictionary(uniqueKeysWithValues: plan.expected.map { ($0.socket, $0.count) })
        var sentSequences: [Int] = []
        var sentAt: [UInt64] = []
        // Sends by socket: once a sender's socket ends, what it sent last may have gone with it.
        var sentBy: [Int: Int] = [:]
        var unsent: [Int] = []
        sentSequences.reserveCapacity(plan.sends.count)
        sentAt.reserveCapacity(plan.sends.count)
        var next = 0
        while next < plan.sends.count {
            let due = start + .nanoseconds(Int64(plan.sends[next].at * 1e9))
            if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
            // Everything due by now goes out at once: at thousands of messages a second, one
            // sleep per message would cost more than the sending.
            let now = ContinuousClock.now
            repeat {
                let send = plan.sends[next]
                next += 1
                guard let socket = byIndex[send.socket], socket.ending == nil else {
                    // Its socket is gone: the message never leaves, and no one here waits for it.
                    unsent.append(send.sequence)
                    for (index, chat) in chatOf where chat == chatOf[send.socket] { expected[index]? -= 1 }
                    continue
                }
                sentSequences.append(send.sequence)
                sentAt.append(MonotonicTime.now())
                sentBy[send.socket, default: 0] += 1
                socket.sendMessage(send.content)
            } while next < plan.sends.count && start + .nanoseconds(Int64(plan.sends[next].at * 1e9)) <= now
            sent.store(next, ordering: .relaxed)
        }

        let drainStarted = ContinuousClock.now
        let deadline = max(drainStarted, start + .nanoseconds(Int64(plan.lastSendAt * 1e9))) + .nanoseconds(Int64(plan.drainSeconds * 1e9))
        let waited = expected.compactMap { index, count in byIndex[index].map { (socket: $0, chat: chatOf[index], count: count) } }
        var timedOut = false
        // A counter per socket, read every 10 ms: the wait costs nothing next to the receiving. A
        // message the server refused (and said so to its sender here) is waited for by no one
        // here, nor one whose sender's socket has ended since (its fate went with the connection).
        while true {
            let notExpected = notExpectedPerChat(sentBy)
            guard waited.contains(where: { socket, chat, count in
                socket.deliveryCount < count - (chat.flatMap { notExpected[$0] } ?? 0) && socket.ending == nil
            }) else { break }
            guard ContinuousClock.now < deadline else {
                timedOut = true
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let drainSeconds = (ContinuousClock.now - drainStarted).inSeconds
        let usage = cpu.usage(process: name, includesServer: includesServer)
        let recordings = sockets.map { SocketRecording(index: $0.index, socket: $0.socket) }
        await withTaskGroup(of: Void.self) { group in
            for (_, socket) in sockets { group.addTask { await socket.close() } }
        }
        return WorkerRecording(
            worker: worker, sentSequences: sentSequences, sentAt: sentAt, unsentSequences: unsent, sockets: recordings,
            drainSeconds: drainSeconds, drainTimedOut: timedOut, cpu: usage
        )
    }

    /// Closes every socket (a run that stops before it starts).
    func close() async {
        for (_, socket) in sockets { await socket.close() }
    }
}
