import NIOCore
import NIOPosix

/// Sends raw bytes to the server and returns everything it answers until it closes the
/// connection: for the socket handshake, which HTTP clients rewrite or refuse to send as-is.
enum RawHTTP {
    static func exchange(port: Int, _ request: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var answer = ""
            for try await chunk in inbound {
                answer += String(buffer: chunk)
                // A refusal ends with the connection closed; an accepted upgrade stays open after its head.
                if answer.hasPrefix("HTTP/1.1 101"), answer.contains("\r\n\r\n") { break }
            }
            return answer
        }
    }

    /// A WebSocket upgrade request for `path`, with an optional `Authorization` token.
    static func upgradeRequest(_ path: String, token: String?) -> String {
        var lines = [
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ]
        if let token { lines.append("Authorization: Token \(token)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }
}
