import Foundation
import Synchronization

/// One worker's part of a load run: its sockets, opened; then its share of the schedule sent on
/// time (and, on user sockets, the reconnects planned), and the wait for the last broadcasts,
/// bounded by one deadline for all its sockets.
final class LoadSession: Sendable {
    /// A socket of the run: a chat socket (`new_message`), or a user socket with its chats.
    enum Endpoint: Sendable {
        case chat(LoadSocket)
        case user(LoadUserSocket)

        var ending: LoadSocket.Ending? {
            switch self {
            case .chat(let socket): socket.ending
            case .user(let socket): socket.ending
            }
        }

        var deliveryCount: Int {
            switch self {
            case .chat(let socket): socket.deliveryCount
            case .user(let socket): socket.deliveryCount
            }
        }

        /// What a user socket still waits for: acks of its sends, `resumed` after its resume
        /// (chat sockets wait for neither).
        var outstanding: Int {
            switch self {
            case .chat: 0
            case .user(let socket): socket.outstanding
            }
        }

        func close() async {
            switch self {
            case .chat(let socket): await socket.close()
            case .user(let socket): await socket.close()
            }
        }

        func recording(index: Int) -> SocketRecording {
            switch self {
            case .chat(let socket): SocketRecording(index: index, socket: socket)
            case .user(let socket): SocketRecording(index: index, userSocket: socket)
            }
        }
    }

    let worker: Int
    private let name: String
    private let includesServer: Bool
    /// The sockets that opened, by index, with their chats.
    private let sockets: [(index: Int, socket: Endpoint)]
    private let chatsOf: [Int: [String]]
    private let sent = Atomic<Int>(0)

    private init(worker: Int, name: String, includesServer: Bool, sockets: [(index: Int, socket: Endpoint)], chatsOf: [Int: [String]]) {
        self.chatsOf = chatsOf
        self.worker = worker
        self.name = name
        self.includesServer = includesServer
        self.sockets = sockets
    }

    /// Opens the setup's sockets, one after the other: each chat socket answering a first
    /// `fetch_messages`, each user socket its `hello` and a `ping`.
    static func open(_ setup: WorkerSetup) async -> (LoadSession, WorkerReady) {
        var sockets: [(index: Int, socket: Endpoint)] = []
        var ready = WorkerReady(opened: [], refused: [], connectMicroseconds: [])
        for spec in setup.sockets {
            let started = MonotonicTime.now()
            do {
                if let chats = spec.userChats {
                    do {
                        sockets.append((spec.index, .user(try await LoadUserSocket(url: spec.endpoint.url, chats: chats))))
                    } catch let error as SimulatorError {
                        ready.refused.append(.init(index: spec.index, reason: error.description))
                        continue
                    }
                } else {
                    let socket = try await LoadSocket(spec.endpoint)
                    guard await socket.fetchNewest() != nil else {
                        ready.refused.append(.init(index: spec.index, reason: "no answer to fetch_messages"))
                        await socket.close()
                        continue
                    }
                    sockets.append((spec.index, .chat(socket)))
                }
                ready.connectMicroseconds.append((MonotonicTime.now() - started) / 1000)
                ready.opened.append(spec.index)
            } catch {
                ready.refused.append(.init(index: spec.index, reason: "socket refused"))
            }
        }
        return (LoadSession(worker: setup.worker, name: setup.name, includesServer: setup.includesServer, sockets: sockets,
            chatsOf: Dictionary(uniqueKeysWithValues: setup.sockets.map { ($0.index, $0.userChats ?? [$0.chat]) })
        ), ready)
    }

    /// Messages sent so far, and broadcasts received.
    var progress: (sent: Int, received: Int) {
        (sent.load(ordering: .relaxed), sockets.reduce(0) { $0 + $1.socket.deliveryCount })
    }

    /// By chat, the messages this worker's sockets sent that no one here waits for: those the server
    /// refused (and said so), and those sent from sockets that have ended since. One pass over the
    /// sockets for all chats, so the drain's poll stays linear in the sockets.
    private func notExpectedPerChat(_ sentBy: [Int: [String: Int]]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (index, socket) in sockets {
            guard let chats = chatsOf[index] else { continue }
            let ended = socket.ending != nil
            switch socket {
            case .chat(let chatSocket):
                counts[chats[0], default: 0] += chatSocket.refusedCount + (ended ? sentBy[index]?[chats[0]] ?? 0 : 0)
            case .user(let userSocket):
                for (chat, refused) in userSocket.refusedByChat { counts[chats[chat], default: 0] += refused }
                if ended { for (chat, count) in sentBy[index] ?? [:] { counts[chat, default: 0] += count } }
            }
        }
        return counts
    }

    /// Sends the share on schedule (and reconnects the user sockets planned to), waits for the
    /// expected broadcasts (and acks) until the drain's deadline, records what every socket got,
    /// and closes them.
    func run(_ plan: WorkerStart) async -> WorkerRecording {
        let start = MonotonicTime.instant(of: plan.start)
        try? await Task.sleep(until: start, clock: .continuous)
        let cpu = CPUStopwatch()
        let byIndex = Dictionary(uniqueKeysWithValues: sockets.map { ($0.index, $0.socket) })
        var expected = Dictionary(uniqueKeysWithValues: plan.expected.map { ($0.socket, $0.count) })
        async let reconnecting: Void = reconnect(plan.reconnects ?? [], from: start, sockets: byIndex)
        var sentSequences: [Int] = []
        var sentAt: [UInt64] = []
        // Sends by socket and chat: once a sender's socket ends, what it sent last may have gone with it.
        var sentBy: [Int: [String: Int]] = [:]
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
                let chat = send.chat ?? chatsOf[send.socket]?.first ?? ""
                guard let socket = byIndex[send.socket], socket.ending == nil else {
                    // Its socket is gone: the message never leaves, and no one here waits for it.
                    unsent.append(send.sequence)
                    for (index, chats) in chatsOf where chats.contains(chat) { expected[index]? -= 1 }
                    continue
                }
                sentSequences.append(send.sequence)
                sentAt.append(MonotonicTime.now())
                sentBy[send.socket, default: [:]][chat, default: 0] += 1
                switch socket {
                case .chat(let chatSocket):
                    chatSocket.sendMessage(send.content)
                case .user(let userSocket):
                    userSocket.send(chat: userSocket.chats.firstIndex(of: chat) ?? 0, clientID: send.clientID ?? "\(send.sequence)", content: send.content)
                }
            } while next < plan.sends.count && start + .nanoseconds(Int64(plan.sends[next].at * 1e9)) <= now
            sent.store(next, ordering: .relaxed)
        }
        await reconnecting

        let drainStarted = ContinuousClock.now
        let deadline = max(drainStarted, start + .nanoseconds(Int64(plan.lastSendAt * 1e9))) + .nanoseconds(Int64(plan.drainSeconds * 1e9))
        let waited = expected.compactMap { index, count in byIndex[index].map { (socket: $0, chats: chatsOf[index] ?? [], count: count) } }
        var timedOut = false
        // A counter per socket, read every 10 ms: the wait costs nothing next to the receiving. A
        // message the server refused (and said so to its sender here) is waited for by no one
        // here, nor one whose sender's socket has ended since (its fate went with the connection).
        // A user socket also waits for the acks of what it sent, and for `resumed` after a resume.
        while true {
            let notExpected = notExpectedPerChat(sentBy)
            guard waited.contains(where: { socket, chats, count in
                guard socket.ending == nil else { return false }
                let owed = count - chats.reduce(0) { $0 + (notExpected[$1] ?? 0) }
                return socket.deliveryCount < owed || socket.outstanding > 0
            }) else { break }
            guard ContinuousClock.now < deadline else {
                timedOut = true
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let drainSeconds = (ContinuousClock.now - drainStarted).inSeconds
        let usage = cpu.usage(process: name, includesServer: includesServer)
        let recordings = sockets.map { $0.socket.recording(index: $0.index) }
        await withTaskGroup(of: Void.self) { group in
            for (_, socket) in sockets { group.addTask { await socket.close() } }
        }
        return WorkerRecording(
            worker: worker, sentSequences: sentSequences, sentAt: sentAt, unsentSequences: unsent, sockets: recordings,
            drainSeconds: drainSeconds, drainTimedOut: timedOut, cpu: usage
        )
    }

    /// Drops and resumes each user socket at its planned times, one socket's reconnects after
    /// another, every socket at once.
    private func reconnect(_ plan: [PlannedReconnect], from start: ContinuousClock.Instant, sockets: [Int: Endpoint]) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, times) in Dictionary(grouping: plan, by: \.socket) {
                guard case .user(let socket)? = sockets[index] else { continue }
                group.addTask {
                    for time in times.map(\.at).sorted() {
                        try? await Task.sleep(until: start + .nanoseconds(Int64(time * 1e9)), clock: .continuous)
                        guard socket.ending == nil else { return }
                        await socket.reconnect()
                    }
                }
            }
        }
    }

    /// Closes every socket (a run that stops before it starts).
    func close() async {
        for (_, socket) in sockets { await socket.close() }
    }
}
