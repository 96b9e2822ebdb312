import NIOCore

/// Connections that send a request one byte every few seconds (slowloris): each holds a
/// connection, and whatever the server keeps for it, while hardly sending anything. When the
/// server closes one, it is opened again, so the server faces `connections` of them all along.
struct SlowHeaders: Sendable {
    let target: RawConnection.Target
    let connections: Int
    let interval: Duration
    let tally: HostileTally

    /// The request the connections spell out; long enough never to end within a run.
    private var request: String {
        "GET /api/user/currentuser/ HTTP/1.1\r\nHost: \(target.host)\r\nUser-Agent: chat-sim slow-headers\r\n"
            + "X-Padding: \(String(repeating: "z", count: 200))\r\n\r\n"
    }

    func run(until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<connections {
                // Spread the first bytes over one interval, so the connections do not write in step.
                let offset = interval * (Double(index) / Double(connections))
                group.addTask { await hold(firstByteAfter: offset, until: deadline) }
            }
        }
    }

    private func hold(firstByteAfter offset: Duration, until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guard let channel = await RawConnection.open(target, countingIn: tally, before: deadline) else { continue }
            do {
                let ending = try await channel.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Ending.self) { group in
                        group.addTask {
                            var answer = ""
                            for try await chunk in inbound { answer += String(buffer: chunk) }
                            return .serverClosed(status: RawConnection.status(of: answer))
                        }
                        group.addTask {
                            var next = ContinuousClock.now + offset
                            for byte in request.utf8 {
                                try await Task.sleep(until: min(next, deadline), clock: .continuous)
                                if ContinuousClock.now >= deadline { break }
                                try await outbound.write(ByteBuffer(bytes: [byte]))
                                next += interval
                            }
                            // The whole request went out: wait for the answer until the end.
                            try await Task.sleep(until: deadline, clock: .continuous)
                            return .deadline
                        }
                        defer { group.cancelAll() }
                        return try await group.next() ?? .deadline
                    }
                }
                if case .serverClosed(let status) = ending {
                    tally.update {
                        $0.closedByServer += 1
                        if let status { $0.count(status: status) }
                    }
                }
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { return }
                // A write refused because the server closed the connection is a close too.
                tally.update { $0.closedByServer += 1 }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// How one connection ended.
    private enum Ending: Sendable {
        case serverClosed(status: Int?)
        case deadline
    }
}
