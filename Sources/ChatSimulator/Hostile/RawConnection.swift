import Foundation
import NIOCore
import NIOPosix

/// A plain TCP connection to the server under test, for the clients an HTTP library will not
/// imitate: half-sent requests and dropped handshakes.
enum RawConnection {
    /// Where a server URL points: host and port. Only `http://` (a raw connection speaks no TLS).
    struct Target: Sendable, Equatable {
        var host: String
        var port: Int

        init(url: String) throws {
            guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host, !host.isEmpty else {
                throw SimulatorError("hostile clients need an http:// server URL, not \(url)")
            }
            self.host = host
            self.port = components.port ?? 80
        }
    }

    /// Opens a connection to `target`.
    static func open(_ target: Target) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: target.host, port: target.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Opens a connection to `target` and counts it as one of `tally`'s attempts; or counts the
    /// failure and pauses a moment (a refusing server is not hammered in a tight loop), and
    /// returns nil.
    static func open(_ target: Target, countingIn tally: HostileTally, before deadline: ContinuousClock.Instant) async -> NIOAsyncChannel<ByteBuffer, ByteBuffer>? {
        do {
            let channel = try await open(target)
            tally.update { $0.attempts += 1 }
            return channel
        } catch {
            if ContinuousClock.now < deadline { tally.update { $0.count(error: "connect failed") } }
            try? await Task.sleep(for: .milliseconds(100))
            return nil
        }
    }

    /// The status code of an HTTP answer's first line (`HTTP/1.1 429 Too Many Requests`), if any.
    static func status(of answer: String) -> Int? {
        guard answer.hasPrefix("HTTP/") else { return nil }
        let fields = answer.prefix { $0 != "\r" && $0 != "\n" }.split(separator: " ")
        return fields.count >= 2 ? Int(fields[1]) : nil
    }
}
