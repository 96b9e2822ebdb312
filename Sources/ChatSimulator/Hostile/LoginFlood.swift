import AsyncHTTPClient
import NIOCore
import NIOPosix

/// Connections that POST wrong passwords to `/api/rest-auth/login/` back to back, ignoring
/// `Retry-After`: a password-guessing client.
///
/// Each connection guesses the password of an address of its own, one no account has, so the
/// per-account limit holds each one back and the server still spends a password check on every
/// guess it lets through (it checks unknown addresses as long as known ones).
struct LoginFlood: Sendable {
    let baseURLs: [String]
    let connections: Int
    let runID: String
    let tally: HostileTally

    func run(until deadline: ContinuousClock.Instant) async {
        // A client of its own, with a connection per flooder: the shared client holds 8 per host,
        // which would throttle the flood here instead of at the server, and would make the
        // normal users queue behind it in this process.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<connections {
                let client = ChatClient(baseURL: baseURLs[index % baseURLs.count], http: http)
                group.addTask { await guess(as: index, with: client, until: deadline) }
            }
        }
        try? await http.shutdown()
    }

    private func guess(as index: Int, with client: ChatClient, until deadline: ContinuousClock.Instant) async {
        let email = "flood\(index).\(runID)@hostile.example.com"
        var guesses = 0
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guesses += 1
            do {
                let answer = try await client.login(email: email, password: "Wrong-guess-\(guesses)")
                tally.update {
                    $0.attempts += 1
                    $0.count(status: answer.status)
                }
            } catch let error as HTTPClientError where error == .remoteConnectionClosed {
                tally.update { $0.closedByServer += 1 }
            } catch {
                // Requests cut off by the end of the run are not the server's doing.
                if ContinuousClock.now < deadline { tally.update { $0.count(error: "\(error)") } }
            }
        }
    }
}
