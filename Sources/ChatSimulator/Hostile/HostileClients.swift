import ChatBackend
import Foundation

/// The hostile clients of one run, ready to start: the account and chat the socket-borne ones
/// use, made before the normal users start sending so that set-up is not part of the attack.
public struct HostileClients: Sendable {
    public let profile: HostileProfile
    /// The server's nodes; the clients are spread over them, and never go anywhere else.
    private let baseURLs: [String]
    private let runID: String
    /// The signed-in user of the frame flood and the socket churn, and its chat.
    private let user: (account: Account, chat: String)?

    /// Validates `profile` and the server URLs, and signs up the hostile user when a socket-borne
    /// kind runs.
    public static func prepare(_ profile: HostileProfile, baseURLs: [String], runID: String) async throws -> HostileClients {
        try profile.validate()
        for url in baseURLs { _ = try RawConnection.Target(url: url) }
        var user: (Account, String)?
        if profile.frameFlood > 0 || profile.socketChurn > 0 {
            let client = ChatClient(baseURL: baseURLs[0])
            let account = try await client.signUpOrLogIn(email: "hostile.\(runID)@hostile.example.com", password: Account.virtualUserPassword)
            user = (account, try await account.createGroup(name: "hostile \(runID)"))
        }
        return HostileClients(profile: profile, baseURLs: baseURLs, runID: runID, user: user)
    }

    private init(profile: HostileProfile, baseURLs: [String], runID: String, user: (account: Account, chat: String)?) {
        self.profile = profile
        self.baseURLs = baseURLs
        self.runID = runID
        self.user = user
    }

    /// Runs every kind until `deadline`, then stops them (requests in flight are cancelled, so the
    /// run ends on time however slow the server is) and reports what they got.
    public func run(until deadline: ContinuousClock.Instant) async -> HostileReport {
        let started = ContinuousClock.now
        let tallies = Dictionary(uniqueKeysWithValues: profile.activeKinds.map { ($0, HostileTally(clients: profile[$0])) })
        await withTaskGroup(of: Void.self) { group in
            for (kind, tally) in tallies {
                group.addTask { await run(kind, tally: tally, until: deadline) }
            }
            // Clients check the deadline between requests; what is still in flight at the deadline
            // is cut off here.
            try? await Task.sleep(until: deadline, clock: .continuous)
            group.cancelAll()
        }
        return HostileReport(
            profile: profile, seconds: (ContinuousClock.now - started).inSeconds,
            outcomes: Dictionary(uniqueKeysWithValues: tallies.map { ($0.key.rawValue, $0.value.snapshot) })
        )
    }

    private func run(_ kind: HostileProfile.Kind, tally: HostileTally, until deadline: ContinuousClock.Instant) async {
        // Validated in `prepare`.
        guard let target = try? RawConnection.Target(url: baseURLs[0]) else { return }
        switch kind {
        case .loginFlood:
            await LoginFlood(baseURLs: baseURLs, connections: profile.loginFlood, runID: runID, tally: tally).run(until: deadline)
        case .slowHeaders:
            let interval = Duration.milliseconds(Int64(profile.slowHeadersInterval * 1000))
            await SlowHeaders(target: target, connections: profile.slowHeaders, interval: interval, tally: tally).run(until: deadline)
        case .frameFlood:
            guard let user else { return }
            await FrameFlood(socketURL: user.account.client.socketURL(chatUUID: user.chat), sockets: profile.frameFlood, tally: tally).run(until: deadline)
        case .socketChurn:
            guard let user else { return }
            await SocketChurn(target: target, loops: profile.socketChurn, chat: user.chat, token: user.account.token, tally: tally).run(until: deadline)
        }
    }
}
