import NIOCore

/// Loops that open a chat socket and drop the connection as soon as the server answers the
/// handshake: every round costs the server a token check, a membership check and a session.
struct SocketChurn: Sendable {
    let target: RawConnection.Target
    let loops: Int
    /// The chat the churning user belongs to, and its token.
    let chat: String
    let token: String
    let tally: HostileTally

    private var handshake: String {
        [
            "GET /ws/chat/\(chat)/ HTTP/1.1", "Host: \(target.host):\(target.port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "Authorization: Token \(token)",
        ].joined(separator: "\r\n") + "\r\n\r\n"
    }

    func run(until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<loops {
                group.addTask { await churn(until: deadline) }
            }
        }
    }

    private func churn(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            guard let channel = await RawConnection.open(target, countingIn: tally, before: deadline) else { continue }
            do {
                let status = try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: handshake))
                    var answer = ""
                    for try await chunk in inbound {
                        answer += String(buffer: chunk)
                        if answer.contains("\r\n\r\n") { return RawConnection.status(of: answer) }
                    }
                    return nil
                }
                tally.update {
                    if let status { $0.count(status: status) } else { $0.closedByServer += 1 }
                }
            } catch {
                guard ContinuousClock.now < deadline, !Task.isCancelled else { return }
                // The handshake could not be written or read: the server dropped the connection.
                tally.update { $0.closedByServer += 1 }
            }
        }
    }
}
