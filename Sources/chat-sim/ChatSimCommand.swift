import ArgumentParser
import ChatSimulator
import Foundation

/// `chat-sim`: scripted virtual users against a chat server.
@main
struct ChatSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-sim",
        abstract: "Virtual users for chat servers: conformance scenarios and load profiles.",
        discussion: """
            Every virtual user is a real REST client and a real WebSocket client speaking only the
            wire contract, so any server that speaks it can be tested. Without --server, the
            back-end is started in this process on a temporary SQLite file.

            Examples:
              chat-sim run fixtures/scenarios                  every scenario, in-process server
              chat-sim run fixtures/scenarios/group-chat.yaml --server http://127.0.0.1:8000
              chat-sim load --users 50 --rate 200 --duration 30 --report load.json
              chat-sim fake-google --port 9090              Google sign-in without Google
            """,
        subcommands: [Run.self, Load.self, FakeGoogle.self, LoadWorker.self]
    )
}

/// Options shared by `run` and `load`.
struct ServerOptions: ParsableArguments {
    @Option(help: "URL of the server to test, e.g. http://127.0.0.1:8000; several nodes comma-separated (users are spread over them). Omitted: start one in-process.")
    var server: String?

    /// The nodes named by `--server`.
    var serverURLs: [String] {
        server.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
    }

    @Option(help: "Seed of names and messages: the same seed replays the same users, chats and messages.")
    var seed: UInt64?

    @Option(help: "Folder holding google/ (the fake issuer's test keys). Default: ./fixtures")
    var fixtures: String = "fixtures"

    var googleKeys: URL { URL(fileURLWithPath: fixtures).appendingPathComponent("google") }

    @Option(help: "How the users' sockets authenticate: token (?token=<key>, the default) or cookie (the sessionid cookie their log-in set, as the original back-end's clients did).")
    var socketAuth: SocketAuth?

    /// The seed to use, announced so a failing run can be replayed.
    func resolvedSeed() -> UInt64 {
        seed ?? UInt64.random(in: 1...UInt64(Int64.max))
    }
}

/// `chat-sim fake-google`: the fake Google issuer on its own, until stopped.
struct FakeGoogle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-google",
        abstract: "Serve the fake Google issuer until stopped (Ctrl-C): sign in to a server's web app with Google, without Google.",
        discussion: """
            Start chat-server with the settings it prints; the web app (/app/) then shows "Sign in
            with Google", whose consent page here asks only for an e-mail (any, no password). The
            keys are the test keys in fixtures/google/: never let a real deployment trust them.
            """
    )

    @Option(help: "Port to listen on (127.0.0.1); 0: a free one.")
    var port = 0

    @Option(help: "The Google client ID the server accepts (GOOGLE_CLIENT_IDS).")
    var googleClientID = "chat-sim.apps.googleusercontent.com"

    @Option(help: "Folder holding google/ (the fake issuer's test keys). Default: ./fixtures")
    var fixtures: String = "fixtures"

    func run() async throws {
        let keys = URL(fileURLWithPath: fixtures).appendingPathComponent("google")
        let issuer = try await FakeGoogleIssuer.start(keysDirectory: keys, port: port, stopOnSignals: true)
        print("fake Google issuer on http://127.0.0.1:\(issuer.port); start chat-server with:")
        print("  " + FakeGoogleIssuer.serverSettings(port: String(issuer.port), clientID: googleClientID).joined(separator: " "))
        try await issuer.untilStopped()
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenario files (or every scenario in a folder) and check every invariant.",
        discussion: "Exit status: 0 when every scenario that ran holds, 1 when any invariant or contract check fails. "
            + "Skipped scenarios (not selected by --only, or scenarios whose actors sign up with Google against a server "
            + "that does not trust the fake issuer) are listed with why, and never fail the run."
    )

    @Argument(help: "Scenario files (.yaml) or folders of them.")
    var paths: [String]

    @Option(help: "Run only the scenarios with one of these tags (comma-separated): contract (the original back-end's behaviour), extension (this server's additions).")
    var only: String?

    @Option(help: "With --server: serve the fake Google issuer on this port (start the server with GOOGLE_CLIENT_IDS=<the client ID below>, GOOGLE_JWKS_URL=http://127.0.0.1:<port>/oauth2/v3/certs, GOOGLE_TOKENINFO_URL=http://127.0.0.1:<port>/tokeninfo). Without it, or when the server refuses the issuer's token, Google scenarios are skipped.")
    var fakeGooglePort: Int?

    @Option(help: "With --fake-google-port: the Google client ID the server accepts (GOOGLE_CLIENT_IDS).")
    var googleClientID = "chat-sim.apps.googleusercontent.com"

    @Option(help: "Break the in-process server on purpose (drop, duplicate or reorder broadcasts) to see the checks fail.")
    var injectFault: FaultyChannelLayer.Fault?

    @Option(help: "Break what the in-process server sends user sockets only (drop or repeat messages, read-back: markers announced back at 0) to see the checks fail.")
    var injectUserFault: FaultyUserSocketLayer.Fault?

    @OptionGroup var options: ServerOptions

    func validate() throws {
        _ = try onlyTags()
    }

    /// The tags `--only` names; nil without it.
    private func onlyTags() throws -> Set<ScenarioTag>? {
        do {
            return try only.map(ScenarioTag.parse(list:))
        } catch let error as SimulatorError {
            throw ValidationError("--only: \(error.description)")
        }
    }

    func run() async throws {
        let seed = options.resolvedSeed()
        let files = try Scenario.files(in: paths)
        guard !files.isEmpty else { throw ValidationError("no .yaml scenario in \(paths.joined(separator: ", "))") }
        let auth = options.socketAuth == .cookie ? ", sockets by session cookie" : ""
        print("chat-sim: \(files.count) scenario(s), seed \(seed), server \(options.server ?? "in-process (SQLite)")\(auth)")
        if injectFault != nil || injectUserFault != nil, options.server != nil {
            throw ValidationError("--inject-fault and --inject-user-fault work on the in-process server only")
        }
        if injectFault != nil, injectUserFault != nil { throw ValidationError("inject one fault at a time") }
        var suite = ScenarioSuite(files: files, seed: seed, fault: injectFault)
        suite.userSocketFault = injectUserFault
        suite.only = try onlyTags()
        suite.externalGoogle = fakeGooglePort.map { ($0, googleClientID) }
        suite.socketAuth = options.socketAuth ?? .token
        let results = try await suite.run(serverURLs: options.serverURLs, googleKeys: options.googleKeys) { result in
            if let reason = result.skipped {
                print("skip \(result.scenario): \(reason)")
                return
            }
            let verdict = result.violations.isEmpty ? "ok  " : "FAIL"
            print("\(verdict) \(result.scenario): \(result.steps) steps, \(result.messages) messages, \(Self.format(result.duration))")
            for violation in result.violations.prefix(20) { print("     \(violation)") }
            if result.violations.count > 20 { print("     … and \(result.violations.count - 20) more") }
        }
        let summary = ScenarioSummary(results)
        print(summary.line(seed: seed))
        if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
    }

    static func format(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a load profile and report latency, throughput and errors.",
        discussion: """
            Messages are sent on schedule (open model), whether or not the server keeps up. Exit
            status: 0 when every invariant holds and every threshold is met, 1 otherwise.

            Hostile clients (--hostile, or `hostile:` in the profile) run beside the users while
            messages go out, against the same server only, and stop when the sending ends:
              login-flood=N   N connections POSTing wrong passwords to /api/rest-auth/login/ (default 60)
              slow-headers=N  N connections sending a request one byte every few seconds (default 200)
              frame-flood=N   N signed-in sockets sending new_message as fast as answered (default 1)
              socket-churn=N  N loops opening a chat socket and dropping it (default 5)
            Without --server, the in-process server then runs with its default rate limits except
            per address for log-ins and registrations (every client shares one address).
            --hostile-p99-factor F runs the profile first without the hostile clients, then with
            them, and fails when the p99 delivery latency grows beyond F times the first run's.

            After the last send, every socket gets at most --drain seconds (default 15), together,
            for its last broadcasts; the report then lists every socket the server closed or that
            stalled, with what it missed (such a run fails), and the simulator's own CPU use.
            --socket user (or `socket: user`) puts each user on one user socket (/ws/) for all their
            chats, sending with client_ids; --reconnect-every N makes a share of them
            (--reconnect-share, default 0.5) drop their connection every N seconds and come back with
            resume, sending again what was not acknowledged. The report then also checks that every
            send was acknowledged once (a retry with the same ack), stored once, and that every
            connection saw each chat exactly once in seq order from where it started or resumed.
            --workers N (or `workers:` in the profile) spreads the sockets and the sending over N
            child processes (this executable, `load-worker`), for more load than one process can
            offer; without --server they reach the in-process server over its port. Users of an
            earlier run with the same seed log in instead of signing up.
            """
    )

    @Option(help: "A load profile (YAML with users, chats, groupSize, rate, rampUp, duration, socket, reconnectEvery, reconnectShare); flags override it.")
    var profile: String?

    @Option(help: "Virtual users.") var users: Int?
    @Option(help: "Group chats.") var chats: Int?
    @Option(help: "Members per group chat.") var groupSize: Int?
    @Option(help: "Messages per second over all chats (after ramp-up).") var rate: Double?
    @Option(help: "Seconds to ramp up to the rate.") var rampUp: Double?
    @Option(help: "Seconds of sending.") var duration: Double?

    @Option(help: "REST requests per second by the users while sending (default: 10 with hostile clients, else 0).") var restProbes: Double?
    @Option(help: "Hostile clients beside the users, e.g. login-flood=60,slow-headers=200,frame-flood=1,socket-churn=5.") var hostile: String?
    @Option(help: "Seconds between two bytes of a slow-headers connection.") var slowHeadersInterval: Double?

    @Option(help: "Processes holding the users' sockets (chat-sim load-worker children); default 1, this process.") var workers: Int?
    @Option(help: "Seconds to wait, after the last send, for the last broadcasts on every socket.") var drain: Double = 15
    @Option(help: "The socket users live on: chat (a chat socket per chat, the default) or user (one /ws/ each, sending with client_ids).") var socket: LoadSocketKind?
    @Option(help: "With --socket user: seconds between a reconnecting socket's drop-and-resume (0: never).") var reconnectEvery: Double?
    @Option(help: "With --reconnect-every: the share of user sockets that reconnect (default 0.5).") var reconnectShare: Double?

    @Option(help: "Write the JSON report to this file.") var report: String?
    @Option(help: "Write the report as one self-contained HTML page (charts, invariants, errors; nothing fetched) to this file.") var reportHtml: String?
    @Option(name: .customLong("baseline"), help: "A JSON report of an earlier run (--report): the summary and the HTML page say what got better or worse.") var baselineFile: String?
    @Option(help: "Fail when the p99 send-to-delivery latency exceeds this many milliseconds.") var maxP99: Double?
    @Option(help: "Fail when fewer messages per second than this were stored and broadcast.") var minRate: Double?
    @Option(help: "Run the profile without the hostile clients first; fail when their p99 latency exceeds this factor of that run's.") var hostileP99Factor: Double?

    @OptionGroup var options: ServerOptions

    func run() async throws {
        var shape = try profile.map { try LoadProfile.load(path: $0) } ?? LoadProfile()
        if let users { shape.users = users }
        if let chats { shape.chats = chats }
        if let groupSize { shape.groupSize = groupSize }
        if let rate { shape.rate = rate }
        if let rampUp { shape.rampUp = rampUp }
        if let duration { shape.duration = duration }
        if let workers { shape.workers = workers }
        if let socketAuth = options.socketAuth { shape.socketAuth = socketAuth }
        if let socket { shape.socket = socket }
        if let reconnectEvery { shape.reconnectEvery = reconnectEvery }
        if let reconnectShare { shape.reconnectShare = reconnectShare }
        guard drain >= 0, drain <= 3600 else { throw ValidationError("--drain must be between 0 and 3600 seconds") }
        do {
            if let hostile { shape.hostile = try HostileProfile(parsing: hostile) }
            if let slowHeadersInterval { shape.hostile.slowHeadersInterval = slowHeadersInterval }
            shape.restProbes = restProbes ?? (shape.hostile.isEmpty ? shape.restProbes : max(shape.restProbes, 10))
            try shape.validate()
        } catch let error as SimulatorError {
            throw ValidationError(error.description)
        }
        if hostileP99Factor != nil, shape.hostile.isEmpty { throw ValidationError("--hostile-p99-factor needs hostile clients (--hostile)") }
        // Read before the run, so a wrong path costs nothing.
        let previous: ReportFigures?
        do {
            previous = try baselineFile.map(ReportFigures.load(path:))
        } catch let error as SimulatorError {
            throw ValidationError(error.description)
        }

        let seed = options.resolvedSeed()
        let server = options.serverURLs.isEmpty
            ? try await InProcessServer.start(googleKeys: options.googleKeys) { if !shape.hostile.isEmpty { $0.rateLimits = .hostileRun } }
            : nil
        let baseURLs = server.map { [$0.baseURL] } ?? options.serverURLs
        var baseline: Baseline?
        if let hostileP99Factor {
            var calm = shape
            calm.hostile = HostileProfile()
            var runner = makeRunner(calm, seed: seed, baseURLs: baseURLs, inProcess: server != nil)
            runner.runID += "-baseline"
            print("baseline: the profile without hostile clients")
            let report = try await runner.run(progress: Self.progress)
            Self.endProgress()
            print(report.summary)
            baseline = Baseline(report, p99Factor: hostileP99Factor)
            print("with hostile clients: \(shape.hostile.spec)")
        }
        var result = try await makeRunner(shape, seed: seed, baseURLs: baseURLs, inProcess: server != nil).run(progress: Self.progress)
        Self.endProgress()
        await server?.stop()
        if let baseline { result.compare(with: baseline) }
        if let maxP99, result.deliveryLatency.p99 > maxP99 {
            result.thresholdFailures.append(String(format: "p99 latency %.2f ms > %.2f ms", result.deliveryLatency.p99, maxP99))
        }
        if let minRate, result.messagesPerSecond < minRate {
            result.thresholdFailures.append(String(format: "rate %.1f msg/s < %.1f msg/s", result.messagesPerSecond, minRate))
        }
        print(result.summary)
        let comparison = try previous.map { ReportComparison(baseline: $0, current: try ReportFigures(result)) }
        if let comparison { print(comparison.lines.joined(separator: "\n")) }
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: report))
            print("report written to \(report)")
        }
        if let reportHtml {
            var options: [(name: String, value: String)] = []
            if let maxP99 { options.append(("--max-p99", "\(maxP99) ms")) }
            if let minRate { options.append(("--min-rate", "\(minRate) msg/s")) }
            if let hostileP99Factor { options.append(("--hostile-p99-factor", "\(hostileP99Factor)")) }
            if let baselineFile { options.append(("--baseline", baselineFile)) }
            if let profile { options.append(("--profile", profile)) }
            let page = LoadReportPage.render(result, comparison: comparison, options: options)
            try Data(page.utf8).write(to: URL(fileURLWithPath: reportHtml))
            print("HTML report written to \(reportHtml)")
        }
        if !result.passed { throw ExitCode(1) }
    }

    private func makeRunner(_ profile: LoadProfile, seed: UInt64, baseURLs: [String], inProcess: Bool) -> LoadRunner {
        var runner = LoadRunner(profile: profile, seed: seed, baseURLs: baseURLs)
        runner.settleTimeout = .milliseconds(Int64(drain * 1000))
        runner.serverInProcess = inProcess
        // The workers are this executable again; /proc/self/exe names it whatever the working folder.
        runner.workerCommand = ["/proc/self/exe", "load-worker"]
        return runner
    }

    private static let interactive = isatty(STDERR_FILENO) != 0

    /// Writes a progress line to standard error: over the last one on a terminal.
    @Sendable private static func progress(_ line: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    /// Ends the progress lines of a run on a terminal.
    private static func endProgress() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// A worker process of `chat-sim load --workers N`, started by it: not for people.
struct LoadWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-worker",
        abstract: "One worker process of `load --workers N` (reads its plan on standard input).",
        shouldDisplay: false
    )

    func run() async throws {
        let status = await LoadWorkerMain.run()
        if status != 0 { throw ExitCode(status) }
    }
}

extension FaultyChannelLayer.Fault: ExpressibleByArgument {}
extension SocketAuth: ExpressibleByArgument {}
extension FaultyUserSocketLayer.Fault: ExpressibleByArgument {}
extension LoadSocketKind: ExpressibleByArgument {}
