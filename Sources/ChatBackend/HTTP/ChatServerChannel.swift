// Adapted from HummingbirdWebSocket's HTTP1WebSocketUpgradeChannel (Apache-2.0, the Hummingbird
// authors), with these differences:
// - An upgrade request the router does not accept is answered with the router's own answer (the
//   contract's 401, 403 or 404 with its JSON body), where the library answers every refusal with an
//   empty 400.
// - On graceful shutdown a socket is closed with 1001 (going away), as the contract says, where
//   WSCore closes it with 1000.
// - A connection over the caps of `ConnectionAdmission` is closed unread.
// - `ConnectionCloseHandler` and `RequestDeadlineHandler` sit between NIO's HTTP handlers and its
//   upgrader, so they see every request, the first included; they leave before an accepted upgrade.
//   The deadline handler keeps the time in place of Hummingbird's idle timeout, which counts whole
//   request parts and so never fires while a body trickles in.
// - Any request of a kept-alive connection can become a socket, as with Daphne: NIO's upgrader
//   looks only at the first, so the later ones are read by our own request loop (Hummingbird's
//   `handleHTTP`, plus the upgrade; ChatServerChannel+Requests.swift), which asks the router the
//   same way and, if admitted, swaps the HTTP handlers for NIO's WebSocket ones itself; the
//   socket's traffic goes around the HTTP reader, which cannot leave the pipeline (`SocketDetour`).
//   The library redirects such a request (307) to a new connection.
// It depends on WSCore's `@_spi(WSInternal)` `WebSocketHandler`, so Package.swift pins swift-websocket
// to its minor version.

import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ServiceLifecycle
import Synchronization
@_spi(WSInternal) import WSCore

/// The server's child channel: HTTP/1.1, upgraded to a WebSocket when the router's socket route
/// admits the upgrade request (see ``AdmittedSocket``).
struct ChatServerChannel: ServerChildChannel, HTTPChannelHandler {
    typealias SocketHandler = @Sendable (NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Logger) async -> Void

    /// The context a socket handler runs with.
    struct SocketContext: WebSocketContext {
        let logger: Logger
        /// The socket's wire, its shutdown signal (the handler closes with 1001 itself) and bounds.
        let connection: SocketConnection
    }

    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, SocketHandler, Logger)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPHandlers)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, Refusal)
    }

    /// A refused upgrade's answer, collected so it can be written once NIO hands the connection back.
    struct Refusal: Sendable {
        var head: HTTPResponse
        var body: ByteBuffer

        /// The answer as written: the connection ends after it.
        var parts: [HTTPResponsePart] {
            var head = head
            head.headerFields[.contentLength] = String(body.readableBytes)
            head.headerFields[.connection] = "close"
            return [.head(head), .body(body), .end(nil)]
        }
    }

    /// What the first call of NIO's upgrader decided, for the calls that follow it.
    private enum Decided {
        case socket(SocketHandler)
        case refused(Refusal)
    }

    /// What the router made of an upgrade request.
    enum Routed {
        case socket(WebSocketDataHandler<SocketContext>)
        case refused(Refusal)
    }

    struct Value: ServerChildChannelValue {
        /// Nil when the connection is over a cap (``ConnectionAdmission``): it is closed unread.
        let upgradeResult: EventLoopFuture<UpgradeResult>?
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let socketResponder: any HTTPResponder<ChatRequestContext>
    private let http1: HTTP1Channel.Configuration
    let webSocket: WebSocketServerConfiguration
    private let connections: ConnectionSettings
    private let admission: ConnectionAdmission

    /// - Parameters:
    ///   - responder: the HTTP router, for every request that is not an upgrade
    ///   - socketResponder: the same router, asked whether an upgrade request becomes a socket
    ///   - connections: how long clients are waited for
    ///   - admission: the connection caps, shared by every connection of the server
    init(
        responder: @escaping HTTPChannelHandler.Responder,
        socketResponder: any HTTPResponder<ChatRequestContext>,
        http1: HTTP1Channel.Configuration,
        webSocket: WebSocketServerConfiguration,
        connections: ConnectionSettings,
        admission: ConnectionAdmission
    ) {
        self.responder = responder
        self.socketResponder = socketResponder
        self.http1 = http1
        self.webSocket = webSocket
        self.connections = connections
        self.admission = admission
    }

    /// NIO's upgrader asks "should we?", then builds the pipeline (or the HTTP one on refusal);
    /// the decision is kept between the calls.
    private func shouldUpgrade(
        _ head: HTTPRequestHead, channel: any Channel, logger: Logger, decided: NIOLockedValueBox<Decided?>
    ) -> EventLoopFuture<HTTPHeaders?> {
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
        let socketResponder = self.socketResponder
        promise.completeWithTask {
            guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
                decided.withLockedValue { $0 = .refused(Refusal(head: HTTPResponse(status: .badRequest), body: ByteBuffer())) }
                return nil
            }
            switch await Self.route(Request(head: request, body: .init(buffer: .init())), socketResponder, channel: channel, logger: logger) {
            case .refused(let refusal):
                decided.withLockedValue { $0 = .refused(refusal) }
                return nil
            case .socket(let handler):
                let socket = self.socketHandler(handler)
                decided.withLockedValue { $0 = .socket(socket) }
                return HTTPHeaders()
            }
        }
        return promise.futureResult
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard admission.admit(channel) else {
                return Value(upgradeResult: nil, channel: channel)
            }
            let decided = NIOLockedValueBox<Decided?>(nil)
            let connectionHandlers = NIOLoopBound(
                [
                    ConnectionCloseHandler(),
                    RequestDeadlineHandler(
                        idleTimeout: TimeAmount(connections.idleTimeout), requestTimeout: TimeAmount(connections.requestTimeout)
                    ),
                ] as [any RemovableChannelHandler],
                eventLoop: channel.eventLoop
            )
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: webSocket.maxFrameSize,
                shouldUpgrade: { channel, head in
                    self.shouldUpgrade(head, channel: channel, logger: logger, decided: decided).map { headers in
                        // Removed before NIO removes the HTTP decoder, which hands the bytes after the
                        // upgrade request on as they are: HTTP handlers must not see them.
                        if headers != nil {
                            for handler in connectionHandlers.value {
                                channel.pipeline.syncOperations.removeHandler(handler, promise: nil)
                            }
                        }
                        return headers
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .socket(let handler) = decided.withLockedValue({ $0 }) else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return UpgradeResult.websocket(asyncChannel, handler, logger)
                    }
                }
            )
            let serverUpgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    // Never asked for: NIO re-delivers the request to the HTTP router. Refused: NIO has
                    // consumed the request head, so the refusal is written directly.
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        let codec = HTTP1ToHTTPServerCodec(secure: false)
                        let additional = http1.additionalChannelHandlers()
                        let state = HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger)
                        try pipeline.addHandler(codec)
                        try pipeline.addHandlers(additional)
                        try pipeline.addHandler(state)
                        // Just in front of the HTTP reader, for a socket opened by a later request.
                        try pipeline.addHandler(SocketDetour())
                        // What a socket opened by a later request replaces, from the reader's end:
                        // every HTTP handler but the decoder, which holds the socket's first bytes.
                        let httpHandlers: [any RemovableChannelHandler] =
                            [state] + additional.reversed() + [codec] + connectionHandlers.value.reversed() + [
                                try pipeline.handler(type: HTTPServerProtocolErrorHandler.self),
                                try pipeline.handler(type: HTTPResponseEncoder.self),
                            ]
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if case .refused(let error) = decided.withLockedValue({ $0 }) {
                            return UpgradeResult.refused(asyncChannel, error)
                        }
                        return UpgradeResult.http(asyncChannel, NIOLoopBound(httpHandlers, eventLoop: channel.eventLoop))
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgradeConfiguration)
            configuration.enablePipelining = false
            // NIO answers a request it cannot parse with 400 and closes the connection; without
            // this, a malformed request line or header left the connection hanging.
            configuration.enableErrorHandling = true
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let upgradeResult = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // Between NIO's HTTP handlers and its upgrader, so they see the first request too.
            let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<UpgradeResult>.self)
            for handler in connectionHandlers.value {
                try channel.pipeline.syncOperations.addHandler(handler, position: .before(upgradeHandler))
            }
            return Value(upgradeResult: upgradeResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let upgradeResult = value.upgradeResult else {
            logger.debug("connection over the caps, closed", metadata: ["peer": "\(value.channel.remoteAddress?.description ?? "?")"])
            try? await value.channel.close()
            return
        }
        do {
            switch try await upgradeResult.get() {
            case .http(let http1, let httpHandlers):
                await serveRequests(http1, httpHandlers: httpHandlers, logger: logger)
            case .refused(let http1, let refusal):
                await writeRefusal(refusal, to: http1, logger: logger)
            case .websocket(let asyncChannel, let handler, let logger):
                await handler(asyncChannel, logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("upgrade failed as input was closed")
        } catch {
            logger.debug("error handling upgrade result", metadata: ["error": "\(error)"])
        }
    }
}

extension ChatServerChannel {
    /// Runs an upgrade request through the router, as an ordinary request marked as an upgrade:
    /// the socket route admits it (leaving its handler in the context) or the router's answer,
    /// error or not, becomes the refusal.
    static func route(
        _ request: Request, _ socketResponder: any HTTPResponder<ChatRequestContext>, channel: any Channel, logger: Logger
    ) async -> Routed {
        let context = ChatRequestContext(source: .init(channel: channel, logger: logger))
        context.admittedSocket.markUpgradeRequest()
        let response: Response
        do {
            response = try await socketResponder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Response(status: .internalServerError)
        } catch {
            logger.error("routing a socket upgrade failed", metadata: ["error": "\(error)"])
            response = Response(status: .internalServerError)
        }
        if response.status == .switchingProtocols, let handler = context.admittedSocket.handler {
            return .socket(handler)
        }
        let body = await response.collectedBody()
        return .refused(Refusal(head: HTTPResponse(status: response.status, headerFields: response.headers), body: body))
    }

    /// Runs an admitted socket with WSCore's handler, closing it with 1001 on graceful shutdown.
    func socketHandler(_ handler: @escaping WebSocketDataHandler<SocketContext>) -> SocketHandler {
        let webSocket = self.webSocket
        let connections = self.connections
        return { asyncChannel, logger in
            let shutdown = ShutdownSignal()
            let connection = SocketConnection(
                wire: ChannelSocketWire(channel: asyncChannel.channel), shutdown: shutdown,
                outboundQueue: connections.socketOutboundQueue, pendingCommands: connections.socketPendingCommands,
                closeTimeout: connections.socketCloseTimeout
            )
            // WSCore answers a graceful shutdown by closing with 1000; the contract says 1001.
            // Detached, the library's task does not see the server's shutdown, and the
            // handler closes with 1001 itself when `shutdown` fires.
            let socket = Task.detached {
                do {
                    _ = try await WebSocketHandler.handle(
                        type: .server,
                        configuration: .init(
                            extensions: [],
                            autoPing: webSocket.autoPing,
                            closeTimeout: webSocket.closeTimeout,
                            validateUTF8: webSocket.validateUTF8,
                            maxFrameSize: webSocket.maxFrameSize
                        ),
                        asyncChannel: asyncChannel,
                        context: SocketContext(logger: logger, connection: connection),
                        handler: handler
                    )
                } catch {
                    logger.debug("WebSocket handler error", metadata: ["error": "\(error)"])
                }
            }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await socket.value
                } onGracefulShutdown: {
                    shutdown.fire()
                }
            } onCancel: {
                socket.cancel()
            }
        }
    }

    /// Writes a refused upgrade's answer and closes the connection.
    private func writeRefusal(_ refusal: Refusal, to channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await channel.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: refusal.parts)
            }
        } catch {
            logger.trace("could not write a socket refusal", metadata: ["error": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades decided by `router`'s socket routes; refusals answered as
    /// the router answers them.
    static func chatServer(router: Router<ChatRequestContext>, connections: ConnectionSettings) -> HTTPServerBuilder {
        let socketResponder = router.buildResponder()
        let admission = ConnectionAdmission(maxPerAddress: connections.maxConnectionsPerAddress, maxTotal: connections.maxConnections)
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: Limits.socketFrameBytes, autoPing: .enabled(timePeriod: connections.socketPingInterval),
            closeTimeout: connections.socketCloseTimeout
        )
        return .init { responder in
            // No idle timeout here: RequestDeadlineHandler keeps the time, to the byte.
            ChatServerChannel(
                responder: responder, socketResponder: socketResponder, http1: .init(idleTimeout: nil),
                webSocket: webSocket, connections: connections, admission: admission
            )
        }
    }
}

/// How an upgrade request and the socket route that admits it meet: the channel marks the request
/// as an upgrade, and the route leaves the socket's handler here (a plain GET is never marked, so
/// the route answers it 426).
final class AdmittedSocket: Sendable {
    private struct State {
        var isUpgradeRequest = false
        var handler: WebSocketDataHandler<ChatServerChannel.SocketContext>?
    }

    private let state = Mutex(State())

    /// Whether the request is a WebSocket upgrade that the channel will carry out.
    var isUpgradeRequest: Bool { state.withLock { $0.isUpgradeRequest } }

    /// The handler of the admitted socket, if the route admitted one.
    var handler: WebSocketDataHandler<ChatServerChannel.SocketContext>? { state.withLock { $0.handler } }

    func markUpgradeRequest() {
        state.withLock { $0.isUpgradeRequest = true }
    }

    func admit(_ handler: @escaping WebSocketDataHandler<ChatServerChannel.SocketContext>) {
        state.withLock { $0.handler = handler }
    }
}
