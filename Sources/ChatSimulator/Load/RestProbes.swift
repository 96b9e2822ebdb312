import Foundation

/// REST requests the normal users make while messages go out, on schedule (one every
/// `1/rate` seconds, whether or not the previous one was answered), so the report shows what
/// the users' REST calls cost during the run, not only during set-up.
struct RestProbes: Sendable {
    /// The users' clients, with their tokens; the probes take turns among them.
    let clients: [ChatClient]
    let rate: Double
    let latency: LatencyRecorder
    let errors: ErrorCounter

    func run(until deadline: ContinuousClock.Instant) async {
        guard rate > 0, !clients.isEmpty else { return }
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var index = 0
            while true {
                let due = start + .microseconds(Int64(Double(index) / rate * 1_000_000))
                guard due < deadline else { break }
                try? await Task.sleep(until: due, clock: .continuous)
                let client = clients[index % clients.count]
                group.addTask {
                    do {
                        let answer = try await client.request(.GET, "/api/chat/mychats/")
                        latency.record(answer)
                        // 204: a user in no chat yet; anything else outside 2xx is a refusal.
                        if !(200..<300).contains(answer.status) { errors.count("REST probe \(answer.status)") }
                    } catch {
                        errors.count("REST probe failed")
                    }
                }
                index += 1
            }
        }
    }
}
