import Crypto
import Foundation
import HTTPTypes

/// A WebSocket opening handshake (RFC 6455 §4.2.1) read from a request head, and the server's
/// half of it: for an upgrade on a kept-alive connection, which the channel carries out itself
/// (NIO's upgrader sees only a connection's first request).
///
/// It asks what NIO's upgrader asks (`Upgrade` names `websocket`, one `Sec-WebSocket-Key`,
/// `Sec-WebSocket-Version: 13`), and also that `Connection` names `upgrade`: only then does NIO's
/// HTTP decoder treat the bytes after the head as another protocol's, so only then may they be
/// handed to a socket.
struct WebSocketHandshake {
    /// RFC 6455 §1.3: appended to the client's key before hashing.
    private static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The client's `Sec-WebSocket-Key`.
    let key: String

    /// Nil unless `head` asks for a WebSocket.
    init?(_ head: HTTPRequest) {
        guard
            Self.tokens(head.headerFields[values: .upgrade]).contains("websocket"),
            Self.tokens(head.headerFields[values: .connection]).contains("upgrade"),
            head.headerFields[values: .secWebSocketVersion] == ["13"]
        else { return nil }
        let keys = head.headerFields[values: .secWebSocketKey]
        guard keys.count == 1, let key = keys.first, !key.isEmpty else { return nil }
        self.key = key
    }

    /// The 101 that accepts the handshake.
    var response: HTTPResponse {
        let digest = Insecure.SHA1.hash(data: Data((key + Self.magicGUID).utf8))
        return HTTPResponse(
            status: .switchingProtocols,
            headerFields: [
                .upgrade: "websocket",
                .connection: "upgrade",
                .secWebSocketAccept: Data(digest).base64EncodedString(),
            ]
        )
    }

    /// The lowercased tokens of a comma-separated header's values.
    private static func tokens(_ values: [String]) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}
