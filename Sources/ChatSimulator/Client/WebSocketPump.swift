import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket

/// One WebSocket connection's two directions, as every socket of the simulator runs them: the
/// frames queued on `outgoing` are written in order (then a normal close, once the queue
/// finishes), and each text frame received is handed to `receive` at once.
///
/// The receiving side stays short on purpose: the WebSocket client answers the server's pings
/// only while it is asked for the next frame.
enum WebSocketPump {
    /// Connects to `url` with `headers` on the handshake, calls `opened` once it is open, and pumps
    /// until the connection ends. Returns the server's close frame, or nil if the connection
    /// dropped without one; throws if it never opened.
    static func run(
        url: String,
        headers: HTTPFields = [:],
        logger: Logger,
        outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>,
        opened: @escaping @Sendable () -> Void,
        receive: @escaping @Sendable (String) -> Void
    ) async throws -> WebSocketCloseFrame? {
        try await WebSocketClient.connect(
            url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), logger: logger
        ) { inbound, outbound, _ in
            opened()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await frame in outgoing { try await outbound.write(frame) }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    receive(text)
                }
                group.cancelAll()
            }
        }
    }
}
