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
    /// Whether the server runs in this process (its CPU then counts in this process's).
    public var serverInProcess = false
    /// How to start a worker process (`profile.workers` > 1): an executable and its arguments,
    /// e.g. `chat-sim load-worker`. Nil: only one worker, this process.
    public var workerCommand: [String]?

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

    /// A socket of the run: whose, and the chats it carries (one for a chat socket).
    private struct Endpoint: Sendable {
        let member: Member
        let chats: [String]
        /// A chat socket's chat.
        var chat: String { chats[0] }
    }

    /// Runs the profile; `progress` gets a one-line status about every second while sending.
    public func run(progress: (@Sendable (String) -> Void)? = nil) async throws -> LoadReport {
        try profile.validate()
        let errors = ErrorCounter()
        let rest = LatencyRecorder()
        var random = SeededRandom(seed: seed)

        let users = try await signUp(runID: runID, errors: errors, rest: rest)
        let chats = try await makeChats(users: users, random: &random, errors: errors)
        guard !chats.isEmpty else { throw SimulatorError("no group chat could be built: \(errors.snapshot)") }
        // A chat socket per member and chat, or one user socket per member for all their chats.
        let sockets: [Endpoint] = switch profile.socket {
        case .chat: chats.flatMap { uuid, members in members.map { Endpoint(member: $0, chats: [uuid]) } }
        case .user:
            users.compactMap { user in
                let theirs = chats.filter { $0.1.contains { $0.account.uuid == user.account.uuid } }.map(\.0)
                return theirs.isEmpty ? nil : Endpoint(member: user, chats: theirs)
            }
        }
        let workers = try startWorkers(count: max(1, min(profile.workers, sockets.count)))
        do {
            return try await run(users: users, chats: chats, sockets: sockets, workers: workers, random: &random, errors: errors, rest: rest, progress: progress)
        } catch {
            for worker in workers { await worker.stop() }
            throw error
        }
    }

    private func startWorkers(count: Int) throws -> [any LoadWorker] {
        guard count > 1 else { return [LocalWorker()] }
        guard let workerCommand else { throw SimulatorError("--workers needs the chat-sim executable to start its workers") }
        return try (1...count).map { try ProcessWorker(command: workerCommand, number: $0) }
    }

    private func run(
        users: [Member], chats: [(String, [Member])], sockets: [Endpoint], workers: [any LoadWorker],
        random: inout SeededRandom, errors: ErrorCounter, rest: LatencyRecorder, progress: (@Sendable (String) -> Void)?
    ) async throws -> LoadReport {
        // Sockets are dealt to the workers in turn, so each has members of every chat.
        let readies = try await withThrowingTaskGroup(of: (Int, WorkerReady).self) { group in
            for (number, worker) in workers.enumerated() {
                let setup = WorkerSetup(
                    worker: number + 1, name: workers.count == 1 ? "chat-sim" : "worker \(number + 1)",
                    sockets: try sockets.indices.filter { $0 % workers.count == number }.map { index in
                        let socket = sockets[index], account = socket.member.account
                        return switch profile.socket {
                        case .chat:
                            SocketSpec(index: index, endpoint: try account.socketEndpoint(chat: socket.chat, auth: profile.socketAuth), chat: socket.chat)
                        case .user:
                            SocketSpec(index: index, endpoint: SocketEndpoint(url: account.client.userSocketURL), chat: socket.chat, userChats: socket.chats)
                        }
                    },
                    includesServer: workers.count == 1 && serverInProcess
                )
                group.addTask { (number, try await worker.open(setup)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        var connect = LatencyHistogram()
        for ready in readies.values {
            for micro in ready.connectMicroseconds { connect.record(.microseconds(micro)) }
            for refusal in ready.refused { errors.count(refusal.reason) }
        }
        let opened = readies.values.flatMap(\.opened).sorted()
        guard !opened.isEmpty else { throw SimulatorError("no socket opened: \(errors.snapshot)") }

        let hostile = profile.hostile.isEmpty ? nil : try await HostileClients.prepare(profile.hostile, baseURLs: baseURLs, runID: runID)

        // Send on schedule, from random members of random chats; on user sockets with a client_id
        // of this run alone (a second run with the same seed has the same users, and would
        // otherwise be answered with the first run's messages).
        let keyPrefix = String(UInt64.random(in: 0...UInt64(UInt32.max)), radix: 36)
        let sends = profile.sendTimes().enumerated().map { index, time in
            let socket = opened[Int(random.next() % UInt64(opened.count))]
            let content = "load \(runID) #\(index + 1) from \(sockets[socket].member.name)"
            guard profile.socket == .user else { return PlannedSend(sequence: index + 1, at: time, socket: socket, content: content) }
            let theirs = sockets[socket].chats
            let chat = theirs.count == 1 ? theirs[0] : theirs[Int(random.next() % UInt64(theirs.count))]
            return PlannedSend(sequence: index + 1, at: time, socket: socket, content: content, chat: chat, clientID: "\(keyPrefix)-\(index + 1)")
        }
        let chatOf = { (send: PlannedSend) in send.chat ?? sockets[send.socket].chat }
        let sendsPerChat = Dictionary(grouping: sends, by: chatOf).mapValues(\.count)
        let reconnects = planReconnects(opened: opened, random: &random)
        let ownerOf = Dictionary(uniqueKeysWithValues: readies.flatMap { number, ready in ready.opened.map { ($0, number) } })
        // Time for the plan to reach the workers and be read before the first message is due.
        let lead = workers.count == 1 ? 0.05 : 1 + Double(sends.count) / 100_000
        let startNanos = MonotonicTime.now() + UInt64(lead * 1e9)
        let starts = workers.indices.map { number in
            WorkerStart(
                start: startNanos, sends: sends.filter { ownerOf[$0.socket] == number },
                expected: readies[number, default: WorkerReady(opened: [], refused: [], connectMicroseconds: [])].opened.map {
                    .init(socket: $0, count: sockets[$0].chats.reduce(0) { $0 + (sendsPerChat[$1] ?? 0) })
                },
                lastSendAt: sends.last?.at ?? 0, drainSeconds: settleTimeout.inSeconds,
                reconnects: reconnects.isEmpty ? nil : reconnects.filter { ownerOf[$0.socket] == number }
            )
        }

        let start = MonotonicTime.instant(of: startNanos)
        let end = start + .microseconds(Int64(profile.duration * 1_000_000))
        let probeLatency = LatencyRecorder()
        // Beside the sending, and ended by the same deadline.
        // Clients of their own: the users' clients report to the set-up's latency recorder.
        let probeClients = users.map { ChatClient(baseURL: $0.account.client.baseURL, token: $0.account.token) }
        async let probing: Void = {
            try? await Task.sleep(until: start, clock: .continuous)
            await RestProbes(clients: probeClients, rate: profile.restProbes, latency: probeLatency, errors: errors).run(until: end)
        }()
        async let attack = {
            try? await Task.sleep(until: start, clock: .continuous)
            return await hostile?.run(until: end)
        }()
        let ticker = progress.map { report in
            let ticker = Ticker()
            ticker.start(at: start, workers: workers, report: report)
            return ticker
        }
        // The parent's own CPU from the start, like the workers'.
        async let parentCPU: CPUStopwatch? = {
            guard workers.count > 1 else { return nil }
            try? await Task.sleep(until: start, clock: .continuous)
            return CPUStopwatch()
        }()
        let recordings = try await withThrowingTaskGroup(of: WorkerRecording.self) { group in
            for (number, worker) in workers.enumerated() {
                let plan = starts[number]
                group.addTask { try await worker.run(plan) }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted { $0.worker < $1.worker }
        }
        let parentUsage = await parentCPU?.usage(process: "chat-sim (parent)", includesServer: serverInProcess)
        ticker?.stop()
        await probing
        let hostileReport = await attack
        for worker in workers { await worker.stop() }

        // Merge, measure and check.
        var sentAt: [Int: UInt64] = [:]
        for recording in recordings {
            for (sequence, time) in zip(recording.sentSequences, recording.sentAt) { sentAt[sequence] = time }
        }
        let unsent = recordings.reduce(0) { $0 + $1.unsentSequences.count }
        if unsent > 0 { errors.count("message not sent: its sender's socket had been closed", unsent) }
        // Messages the server refused and told their sender so (counted among the error frames).
        let refused = Set(recordings.flatMap { $0.sockets.flatMap(\.refused) })
        // What went out and was accepted: a message whose sender's socket was gone, or that the
        // server said it did not store, is nobody's loss but the sender's, who knows.
        var sent = sends.filter { sentAt[$0.sequence] != nil && !refused.contains($0.content) }
        // A message whose sender's socket the server closed, that no socket received, went with
        // that connection (a client resends what was never echoed): the closed socket is the
        // problem reported, not every other socket of its chat.
        let endedEarly = Set(recordings.flatMap { $0.sockets.filter { $0.endedEarly != nil }.map(\.index) })
        if !endedEarly.isEmpty {
            let received = Set(recordings.flatMap { $0.sockets.flatMap(\.contents) })
            let gone = sent.filter { endedEarly.contains($0.socket) && !received.contains($0.content) }
            if !gone.isEmpty {
                errors.count("message never echoed: its sender's socket was closed", gone.count)
                let goneSequences = Set(gone.map(\.sequence))
                sent.removeAll { goneSequences.contains($0.sequence) }
            }
        }
        let sentPerChat = Dictionary(grouping: sent, by: chatOf).mapValues(\.count)
        let sequenceOf = Dictionary(uniqueKeysWithValues: sends.map { ($0.content, $0) })
        let firstSent = sentAt.values.min() ?? startNanos
        let lastSent = sentAt.values.max() ?? startNanos
        let sendingSeconds = max(Double(lastSent - min(firstSent, startNanos)) / 1e9, profile.duration)
        var latency = LatencyHistogram()
        var recording = Recording(scenario: "load")
        recording.sends = sent.map {
            SentMessage(
                sequence: $0.sequence, step: String(format: "send at %.3f s", $0.at), client: sockets[$0.socket].member.username, chat: chatOf($0),
                content: $0.content, clientID: $0.clientID
            )
        }
        var stored: Set<String> = []
        var deliveries = 0
        var timeline = TimelineBuilder(start: startNanos)
        for time in sentAt.values { timeline.sent(at: time) }
        for content in refused {
            if let send = sequenceOf[content], let time = sentAt[send.sequence] { timeline.refused(sentAt: time) }
        }
        var problems: [SocketProblem] = []
        var userSocketTotals = UserSocketTotals()
        for (worker, socket) in recordings.flatMap({ recording in recording.sockets.map { (recording.worker, $0) } }).sorted(by: { $0.1.index < $1.1.index }) {
            let (member, chat) = (sockets[socket.index].member, sockets[socket.index].chat)
            var seen: [SeenMessage] = []
            seen.reserveCapacity(socket.contents.count)
            for (content, (seq, arrival)) in zip(socket.contents, zip(socket.seqs, socket.arrivals)) {
                seen.append(SeenMessage(content: content, seq: seq < 0 ? nil : seq))
                deliveries += 1
                guard let send = sequenceOf[content] else {
                    timeline.delivered(at: arrival, sentAt: nil)
                    continue
                }
                let sentTime = sentAt[send.sequence]
                timeline.delivered(at: arrival, sentAt: sentTime)
                if let sentTime, arrival >= sentTime { latency.record(.nanoseconds(Int64(arrival - sentTime))) }
                if send.socket == socket.index, stored.insert(content).inserted { timeline.stored(at: arrival) }
            }
            for (kind, count) in socket.errorFrames { errors.count(kind, count) }
            if socket.userConnections != nil {
                recording.userSockets += userSocketLogs(socket, seen: seen, of: sockets[socket.index], sentAt: sentAt, numbered: recording.userSockets.count)
                recording.acks += (socket.acks ?? []).map { ack in
                    AckLog(client: member.username, chat: sockets[socket.index].chats[safe: ack.chat] ?? "?", clientID: ack.clientID, id: ack.id, seq: ack.seq, via: "user socket of \(member.name), connection \(ack.connection)")
                }
                userSocketTotals.add(socket, ended: socket.endedEarly != nil)
            } else {
                recording.sockets.append(SocketLog(client: member.username, chat: chat, openedAt: 0, received: seen))
            }
            let expected = sockets[socket.index].chats.reduce(0) { $0 + (sentPerChat[$1] ?? 0) }
            let received = Set(socket.contents.filter { sequenceOf[$0] != nil }).count
            if let ending = socket.endedEarly {
                problems.append(
                    SocketProblem(state: .closed, client: member.username, chat: chat, worker: worker, closeCode: ending.code, closeReason: ending.reason, ending: ending.description, received: received, expected: expected)
                )
            } else if received < expected {
                problems.append(SocketProblem(state: .stalled, client: member.username, chat: chat, worker: worker, received: received, expected: expected))
            }
        }
        var unreadHistories: [String] = []
        var userSocketViolations: [String] = []
        let endSequence = (sends.last?.sequence ?? 0) + 1
        if profile.socket == .user {
            // Every member's chat JSON, then the history: the unread counts are checked against it.
            for (uuid, members) in chats {
                for member in members {
                    let answer = try? await ChatClient(baseURL: member.account.client.baseURL, token: member.account.token).request(.GET, "/api/chat/\(uuid)/")
                    guard let body = answer?.body, answer?.status == 200, let lastSeq = body["last_seq"]?.intValue, let readSeq = body["read_seq"]?.intValue,
                        let unread = body["unread"]?.intValue
                    else {
                        userSocketViolations.append("\(member.username) could not read chat \(uuid)'s JSON at the end: \(answer.map { "\($0.status) \($0.rawBody.prefix(200))" } ?? "no answer")")
                        continue
                    }
                    recording.chatStates.append(
                        ChatStateLog(
                            sequence: endSequence, step: "end", client: member.username, userID: member.account.id, user: member.account.uuid, chat: uuid,
                            lastSeq: lastSeq, readSeq: readSeq, unread: unread, source: .end
                        )
                    )
                }
            }
        }
        if profile.checkHistory {
            for (uuid, members) in chats {
                guard let reader = members.first else { continue }
                do {
                    recording.histories.append(try await readHistory(uuid, as: reader, sequence: endSequence + 1))
                } catch {
                    unreadHistories.append("the history of chat \(uuid) could not be read by \(reader.username): \(error)")
                }
            }
        }
        var refusedYetDelivered: Set<String> = []
        if !refused.isEmpty {
            for socket in recordings.flatMap(\.sockets) { refusedYetDelivered.formUnion(socket.contents.filter(refused.contains)) }
        }
        let deliveredRefusals = refusedYetDelivered.sorted().prefix(10).map { "the server said '\($0)' was not stored, yet delivered it" }
        let checked = InvariantChecker().check(recording)
        if userSocketTotals.unanswered > 0 {
            userSocketViolations.append("\(userSocketTotals.unanswered) send(s) on user sockets still open were never acknowledged (the first: \(userSocketTotals.firstUnanswered ?? "?"))")
        }
        let violations = checked.map(\.description) + unreadHistories + deliveredRefusals + userSocketViolations
        let invariants = InvariantOutcome.ofLoadRun(
            checked: checked, checkedHistory: profile.checkHistory, unreadHistories: unreadHistories,
            deliveredRefusals: (count: refusedYetDelivered.count, examples: deliveredRefusals)
        )

        var socketsPerChat: [String: Int] = [:]
        for index in opened { for chat in sockets[index].chats { socketsPerChat[chat, default: 0] += 1 } }
        let expectedDeliveries = sent.reduce(0) { $0 + (socketsPerChat[chatOf($1)] ?? 0) }
        return LoadReport(
            profile: profile, seed: seed, server: baseURLs.joined(separator: ","), secondsSending: sendingSeconds,
            messagesSent: sent.count, messagesStored: stored.count, deliveries: deliveries, expectedDeliveries: expectedDeliveries,
            messagesPerSecond: Double(stored.count) / max(sendingSeconds, 0.001),
            deliveriesPerSecond: Double(deliveries) / max(sendingSeconds, 0.001),
            deliveryLatency: latency.summary, connectLatency: connect.summary, restLatency: rest.summary,
            probeLatency: profile.restProbes > 0 ? probeLatency.summary : nil,
            errors: errors.snapshot, violations: violations, thresholdFailures: [],
            hostile: hostileReport,
            drain: DrainReport(limit: settleTimeout.inSeconds, seconds: recordings.map(\.drainSeconds).max() ?? 0, timedOut: recordings.contains(where: \.drainTimedOut)),
            socketProblems: problems,
            simulatorCPU: recordings.map(\.cpu) + (parentUsage.map { [$0] } ?? []),
            invariants: invariants, timeline: timeline.timeline(), messagesRefused: refused.count,
            userSockets: profile.socket == .user ? userSocketTotals.report(acks: recording.acks.count) : nil
        )
    }

    // MARK: User sockets

    /// Which user sockets drop and resume, and when: a seeded share of them (at least one when
    /// the share is above 0, so a small run reconnects too), each every `reconnectEvery` seconds
    /// from a seeded offset, while messages go out.
    private func planReconnects(opened: [Int], random: inout SeededRandom) -> [PlannedReconnect] {
        guard profile.socket == .user, profile.reconnectEvery > 0, profile.reconnectShare > 0 else { return [] }
        let drawn = opened.map { socket in
            (socket: socket, draw: Double(random.next() % 1_000_000) / 1_000_000, offset: Double(random.next() % 1_000_000) / 1_000_000 * profile.reconnectEvery)
        }
        var chosen = drawn.filter { $0.draw < profile.reconnectShare }
        if chosen.isEmpty, let first = drawn.min(by: { $0.draw < $1.draw }) { chosen = [first] }
        var plan: [PlannedReconnect] = []
        for (socket, _, offset) in chosen {
            for time in stride(from: offset, to: profile.duration, by: profile.reconnectEvery) { plan.append(PlannedReconnect(socket: socket, at: time)) }
        }
        return plan.sorted { $0.at < $1.at }
    }

    /// One log per connection of a user socket: the first owed its chats from its `hello`, each
    /// reconnect from the positions it resumed from, and owed live what was sent after its
    /// `hello` came (every connection but the last was dropped, and is owed nothing more).
    private func userSocketLogs(_ socket: SocketRecording, seen: [SeenMessage], of endpoint: Endpoint, sentAt: [Int: UInt64], numbered: Int) -> [UserSocketLog] {
        let connections = socket.userConnections ?? []
        let chatIndexes = socket.chatIndexes ?? []
        let connectionOf = socket.connections ?? []
        var logs: [UserSocketLog] = []
        for (position, connection) in connections.enumerated() {
            // The newest message sent before this connection's hello: what comes after is owed live.
            let from = position == 0 ? 0 : sentAt.filter { $0.value <= connection.openedAt }.map(\.key).max() ?? 0
            let last = position == connections.count - 1
            var frames: [UserSocketFrame] = []
            var resumed = (socket.resumed ?? []).filter { $0.connection == connection.number }[...]
            for (index, message) in seen.enumerated() where connectionOf[safe: index] == connection.number {
                while let mark = resumed.first, mark.after <= index {
                    frames.append(.resumed(chat: endpoint.chats[safe: mark.chat] ?? "?", seq: mark.seq, truncated: mark.truncated))
                    resumed.removeFirst()
                }
                frames.append(.message(chat: endpoint.chats[safe: chatIndexes[safe: index] ?? -1] ?? "?", message))
            }
            frames += resumed.map { .resumed(chat: endpoint.chats[safe: $0.chat] ?? "?", seq: $0.seq, truncated: $0.truncated) }
            logs.append(
                UserSocketLog(
                    client: endpoint.member.username, user: endpoint.member.account.uuid, number: numbered + logs.count + 1, openedAt: from,
                    dropped: !last || socket.endedEarly != nil,
                    chats: endpoint.chats.enumerated().map { index, chat in
                        let start = connection.positions[safe: index] ?? nil
                        return ChatWindow(chat: chat, from: from, position: start, resumed: connection.resumed && start != nil)
                    },
                    frames: frames
                )
            )
        }
        return logs
    }

    /// What the user sockets of a run did, summed.
    private struct UserSocketTotals {
        var reconnects = 0
        var retried = 0
        var sends = 0
        var unanswered = 0
        var firstUnanswered: String?

        mutating func add(_ socket: SocketRecording, ended: Bool) {
            reconnects += max(0, (socket.userConnections?.count ?? 1) - 1)
            retried += socket.retried ?? 0
            sends += socket.clientIDs?.count ?? 0
            // A socket the server closed is reported as such; its last sends went with it.
            guard !ended else { return }
            unanswered += socket.unanswered?.count ?? 0
            firstUnanswered = firstUnanswered ?? socket.unanswered?.first
        }

        func report(acks: Int) -> UserSocketLoadReport {
            UserSocketLoadReport(reconnects: reconnects, retried: retried, sends: sends, acks: acks, unacknowledged: unanswered)
        }
    }

    // MARK: Set-up

    private func signUp(runID: String, errors: ErrorCounter, rest: LatencyRecorder) async throws -> [Member] {
        var members: [Member] = []
        var firstFailure: FlowError?
        for index in 0..<profile.users {
            let name = "user\(index)"
            let client = ChatClient(baseURL: baseURLs[index % baseURLs.count], observer: rest.record)
            do {
                var account = try await client.signUpOrLogIn(email: "\(name).\(runID)@load.example.com", password: Account.virtualUserPassword)
                if profile.socketAuth == .cookie { account = try await account.withSessionCookie(password: Account.virtualUserPassword) }
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
                    if friends.insert(pair).inserted { try await owner.account.befriendUnlessFriends(member.account) }
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
        let socket = try await member.account.openSocket(chat: chat, auth: profile.socketAuth)
        let pages: [JSONValue]
        do {
            pages = try await socket.historyPages()
        } catch {
            await socket.close()
            throw error
        }
        await socket.close()
        let newestFirst = pages.flatMap { $0["messages"]?.arrayValue ?? [] }.map(SeenMessage.init(json:))
        return HistoryLog(sequence: sequence, step: "history at the end", client: member.username, chat: chat, newestFirst: newestFirst)
    }

    // MARK: Progress

    /// Prints a status line every second while messages go out.
    private final class Ticker: Sendable {
        private let task = Mutex<Task<Void, Never>?>(nil)

        func start(at start: ContinuousClock.Instant, workers: [any LoadWorker], report: @escaping @Sendable (String) -> Void) {
            let ticking = Task {
                try? await Task.sleep(until: start, clock: .continuous)
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    guard !Task.isCancelled else { break }
                    let counts = workers.map(\.progress)
                    let elapsed = (ContinuousClock.now - start).inSeconds
                    report(String(format: "[%5.1f s] sent %d  received %d broadcasts", elapsed, counts.reduce(0) { $0 + $1.sent }, counts.reduce(0) { $0 + $1.received }))
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

    func count(_ kind: String, _ times: Int = 1) {
        counts.withLock { $0[kind, default: 0] += times }
    }

    var snapshot: [String: Int] {
        counts.withLock { $0 }
    }
}

extension Array {
    /// The element at `index`, or nil beyond the ends.
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
