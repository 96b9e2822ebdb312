import ChatBackend
import Foundation
import Synchronization

/// Runs a load profile: signs users up, builds the group chats, opens every member's socket,
/// sends on the profile's schedule, then measures and checks what every socket received.
public struct LoadRunner: Sendable {
    public var profile: LoadProfile
    public var seed: UInt64
    /// The server's nodes; users are spread over them.
    public var baseURLs: [String]
    /// The longest wait for the last deliveries after the last send.
    public var settleTimeout: Duration = .seconds(15)
    /// The mark in this run's e-mail addresses and messages. Two runs on one server need two
    /// marks: the seed's alone would sign the same users up twice.
    public var runID: String

    public init(profile: LoadProfile, seed: UInt64, baseURLs: [String]) {
        self.profile = profile
        self.seed = seed
        self.baseURLs = baseURLs
        self.runID = String(seed, radix: 36)
    }

    /// A virtual user: its name in messages, and its account.
    private struct Member: Sendable {
        let name: String
        let account: Account
        var username: String { account.username }
    }

    /// Runs the profile; `progress` gets a one-line status about every second while sending.
    public func run(progress: (@Sendable (String) -> Void)? = nil) async throws -> LoadReport {
        try profile.validate()
        let errors = ErrorCounter()
        let rest = LatencyRecorder()
        var random = SeededRandom(seed: seed)

        let users = try await signUp(runID: runID, errors: errors, rest: rest)
        let chats = try await makeChats(users: users, random: &random, errors: errors)
        var connect = LatencyHistogram()
        var sockets: [(member: Member, chat: String, socket: ChatSocket)] = []
        for (uuid, members) in chats {
            for member in members {
                let started = ContinuousClock.now
                do {
                    let socket = try await member.account.openSocket(chat: uuid)
                    _ = try await socket.fetch()
                    connect.record(ContinuousClock.now - started)
                    sockets.append((member, uuid, socket))
                } catch {
                    errors.count("socket refused")
                }
            }
        }

        let hostile = profile.hostile.isEmpty ? nil : try await HostileClients.prepare(profile.hostile, baseURLs: baseURLs, runID: runID)

        // Send on schedule, from random members of random chats.
        let plan = profile.sendTimes().map { time -> (Double, Int) in (time, Int(random.next() % UInt64(sockets.count))) }
        var sentAt: [String: ContinuousClock.Instant] = [:]
        var sends: [SentMessage] = []
        let start = ContinuousClock.now
        let end = start + .microseconds(Int64(profile.duration * 1_000_000))
        let probeLatency = LatencyRecorder()
        // Beside the sending, and ended by the same deadline.
        // Clients of their own: the users' clients report to the set-up's latency recorder.
        let probeClients = users.map { ChatClient(baseURL: $0.account.client.baseURL, token: $0.account.token) }
        async let probing: Void = RestProbes(clients: probeClients, rate: profile.restProbes, latency: probeLatency, errors: errors).run(until: end)
        async let attack = hostile?.run(until: end)
        let ticker = progress.map { report in
            let ticker = Ticker()
            ticker.start(at: start, sockets: sockets.map(\.socket), report: report)
            return ticker
        }
        for (index, (time, socketIndex)) in plan.enumerated() {
            try? await Task.sleep(until: start + .microseconds(Int64(time * 1_000_000)), clock: .continuous)
            let (member, chat, socket) = sockets[socketIndex]
            let content = "load \(runID) #\(index + 1) from \(member.name)"
            sentAt[content] = .now
            sends.append(SentMessage(sequence: index + 1, step: String(format: "send at %.3f s", time), client: member.username, chat: chat, content: content))
            socket.send(["command": "new_message", "message": .string(content)])
            ticker?.sent.store(sends.count, ordering: .relaxed)
        }
        let sendingSeconds = (ContinuousClock.now - start).inSeconds
        await probing
        let hostileReport = await attack
        let expectedPerChat = Dictionary(grouping: sends, by: \.chat).mapValues { Set($0.map(\.content)) }
        for (_, chat, socket) in sockets {
            let expected = expectedPerChat[chat] ?? []
            _ = await socket.wait(timeout: settleTimeout) { frames in
                frames.reduce(0) { $0 + ($1.frame["command"] == "new_message" ? 1 : 0) } >= expected.count
            }
        }
        ticker?.stop()

        // Measure.
        var latency = LatencyHistogram()
        var recording = Recording(scenario: "load")
        recording.sends = sends
        var stored: Set<String> = []
        var deliveries = 0
        for (member, chat, socket) in sockets {
            var seen: [SeenMessage] = []
            for received in socket.received where received.frame["command"] == "new_message" {
                guard let message = received.frame["message"], let content = message["content"]?.stringValue else { continue }
                seen.append(SeenMessage(json: message))
                deliveries += 1
                if let sent = sentAt[content] { latency.record(received.at - sent) }
                if content.hasSuffix("from \(member.name)") { stored.insert(content) }
            }
            for received in socket.received where received.frame["command"] == "error" {
                errors.count("error frame: \(received.frame["error"]?.stringValue ?? "?")")
            }
            recording.sockets.append(SocketLog(client: member.username, chat: chat, openedAt: 0, received: seen))
        }
        if profile.checkHistory {
            for (uuid, members) in chats {
                guard let reader = members.first else { continue }
                recording.histories.append(try await readHistory(uuid, as: reader, sequence: plan.count + 1))
            }
        }
        for (_, _, socket) in sockets { await socket.close() }

        let socketsPerChat = Dictionary(grouping: sockets, by: \.chat).mapValues(\.count)
        let expectedDeliveries = sends.reduce(0) { $0 + (socketsPerChat[$1.chat] ?? 0) }
        return LoadReport(
            profile: profile, seed: seed, server: baseURLs.joined(separator: ","), secondsSending: sendingSeconds,
            messagesSent: sends.count, messagesStored: stored.count, deliveries: deliveries, expectedDeliveries: expectedDeliveries,
            messagesPerSecond: Double(stored.count) / max(sendingSeconds, 0.001),
            deliveriesPerSecond: Double(deliveries) / max(sendingSeconds, 0.001),
            deliveryLatency: latency.summary, connectLatency: connect.summary, restLatency: rest.summary,
            probeLatency: profile.restProbes > 0 ? probeLatency.summary : nil,
            errors: errors.snapshot, violations: InvariantChecker().check(recording).map(\.description), thresholdFailures: [],
            hostile: hostileReport
        )
    }

    // MARK: Set-up

    private func signUp(runID: String, errors: ErrorCounter, rest: LatencyRecorder) async throws -> [Member] {
        var members: [Member] = []
        var firstFailure: FlowError?
        for index in 0..<profile.users {
            let name = "user\(index)"
            let client = ChatClient(baseURL: baseURLs[index % baseURLs.count], observer: rest.record)
            do {
                let account = try await client.signUp(email: "\(name).\(runID)@load.example.com", password: Account.virtualUserPassword)
                members.append(Member(name: name, account: account))
            } catch let error as FlowError {
                errors.count(error.kind)
                firstFailure = firstFailure ?? error
            }
        }
        if let firstFailure, firstFailure.kind.hasSuffix(" 429") {
            // Every virtual user signs up from this machine's one address: a server with its
            // default limits refuses all but the first few, and the run would measure nothing.
            throw SimulatorError(
                "only \(members.count) of \(profile.users) users could sign up: the server throttled registrations (\(firstFailure)); "
                    + "start it with RATE_LIMIT_REGISTRATION_PER_ADDRESS=off (or RATE_LIMITS=off) for a load run"
            )
        }
        guard members.count >= profile.groupSize else {
            throw SimulatorError("only \(members.count) of \(profile.users) users could sign up; the first refusal: \(firstFailure.map(String.init(describing:)) ?? "none")")
        }
        return members
    }

    private func makeChats(users: [Member], random: inout SeededRandom, errors: ErrorCounter) async throws -> [(String, [Member])] {
        var friends: Set<String> = []
        var chats: [(String, [Member])] = []
        for index in 0..<profile.chats {
            let owner = users[index % users.count]
            var others = users.filter { $0.account.uuid != owner.account.uuid }
            others.shuffle(using: &random)
            let members = [owner] + others.prefix(profile.groupSize - 1)
            do {
                for member in members.dropFirst() {
                    let pair = [owner.account.uuid, member.account.uuid].sorted().joined(separator: "+")
                    if friends.insert(pair).inserted { try await owner.account.befriend(member.account) }
                }
                let uuid = try await owner.account.createGroup(name: "load chat \(index)", members: members.dropFirst().map(\.account))
                chats.append((uuid, members))
            } catch let error as FlowError {
                errors.count(error.kind)
            }
        }
        return chats
    }

    private func readHistory(_ chat: String, as member: Member, sequence: Int) async throws -> HistoryLog {
        let socket = try await member.account.openSocket(chat: chat)
        let newestFirst = try await socket.historyPages()
            .flatMap { $0["messages"]?.arrayValue ?? [] }
            .map(SeenMessage.init(json:))
        await socket.close()
        return HistoryLog(sequence: sequence, step: "history at the end", client: member.username, chat: chat, newestFirst: newestFirst)
    }

    // MARK: Progress

    /// Prints a status line every second while messages go out.
    private final class Ticker: Sendable {
        let sent = Atomic<Int>(0)
        private let task = Mutex<Task<Void, Never>?>(nil)

        func start(at start: ContinuousClock.Instant, sockets: [ChatSocket], report: @escaping @Sendable (String) -> Void) {
            let ticking = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    let received = sockets.reduce(0) { $0 + $1.count }
                    let elapsed = (ContinuousClock.now - start).inSeconds
                    report(String(format: "[%5.1f s] sent %d  received %d frames", elapsed, self.sent.load(ordering: .relaxed), received))
                }
            }
            task.withLock { $0 = ticking }
        }

        func stop() {
            task.withLock { $0?.cancel() }
        }
    }
}

/// Errors by kind, counted from any task.
final class ErrorCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func count(_ kind: String) {
        counts.withLock { $0[kind, default: 0] += 1 }
    }

    var snapshot: [String: Int] {
        counts.withLock { $0 }
    }
}
