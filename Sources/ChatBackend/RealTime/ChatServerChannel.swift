// Adapted from HummingbirdWebSocket's HTTP1WebSocketUpgradeChannel (Apache-2.0, the Hummingbird
// authors). The one change: a refused upgrade is answered with the refusal's status and JSON body
// (401, 403, 404 of the contract), where the library answers every refusal with an empty 200.

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
@_spi(WSInternal) import WSCore

/// The server's child channel: HTTP/1.1, upgraded to a WebSocket when `acceptSocket` returns a handler.
struct ChatServerChannel: ServerChildChannel, HTTPChannelHandler {
    typealias SocketHandler = @Sendable (NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Logger) async -> Void
    /// Decides an upgrade request.
    typealias SocketAcceptor = @Sendable (Request, Logger) async -> SocketDecision

    /// Whether an upgrade request becomes a socket, and if not, what the client is told.
    enum SocketDecision: Sendable {
        case accept(WebSocketDataHandler<SocketContext>)
        case refuse(APIError)
    }

    /// The context a socket handler runs with.
    struct SocketContext: WebSocketContext {
        let logger: Logger
        /// Fires when the server starts shutting down, so the handler can close with 1001.
        let shutdown: ShutdownSignal
    }

    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, SocketHandler, Logger)
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, APIError)
    }

    /// What the first call of NIO's upgrader decided, for the calls that follow it.
    private enum Decided {
        case socket(SocketHandler)
        case refused(APIError)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    private let http1: HTTP1Channel.Configuration
    private let webSocket: WebSocketServerConfiguration
    private let acceptSocket: SocketAcceptor

    /// - Parameters:
    ///   - responder: the HTTP router, which also answers refused upgrades
    ///   - acceptSocket: decides each upgrade request
    init(
        responder: @escaping HTTPChannelHandler.Responder,
        http1: HTTP1Channel.Configuration,
        webSocket: WebSocketServerConfiguration,
        acceptSocket: @escaping SocketAcceptor
    ) {
        self.responder = responder
        self.http1 = http1
        self.webSocket = webSocket
        self.acceptSocket = acceptSocket
    }

    /// NIO's upgrader asks "should we?", then builds the pipeline (or the HTTP one on refusal);
    /// the decision is kept between the calls.
    private func shouldUpgrade(
        _ head: HTTPRequestHead, channel: any Channel, logger: Logger, decided: NIOLockedValueBox<Decided?>
    ) -> EventLoopFuture<HTTPHeaders?> {
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
        let webSocket = self.webSocket
        let acceptSocket = self.acceptSocket
        promise.completeWithTask {
            guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
                decided.withLockedValue { $0 = .refused(APIError.badRequest) }
                return nil
            }
            let handler: WebSocketDataHandler<SocketContext>
            switch await acceptSocket(Request(head: request, body: .init(buffer: .init())), logger) {
            case .refuse(let error):
                decided.withLockedValue { $0 = .refused(error) }
                return nil
            case .accept(let accepted):
                handler = accepted
            }
            decided.withLockedValue {
                $0 = .socket({ asyncChannel, logger in
                    let shutdown = ShutdownSignal()
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
                                context: SocketContext(logger: logger, shutdown: shutdown),
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
                })
            }
            return HTTPHeaders()
        }
        return promise.futureResult
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let decided = NIOLockedValueBox<Decided?>(nil)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: webSocket.maxFrameSize,
                shouldUpgrade: { channel, head in self.shouldUpgrade(head, channel: channel, logger: logger, decided: decided) },
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
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if case .refused(let error) = decided.withLockedValue({ $0 }) {
                            return UpgradeResult.refused(asyncChannel, error)
                        }
                        return UpgradeResult.http(asyncChannel)
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
            return Value(upgradeResult: upgradeResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .http(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .refused(let http1, let error):
                await writeRefusal(error, to: http1, logger: logger)
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
    /// Answers a refused upgrade with the contract's status and JSON, and closes the connection.
    private func writeRefusal(_ error: APIError, to channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        let body = ByteBuffer(string: error.body?.serialized ?? "")
        var headers = error.headers
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(body.readableBytes)
        headers[.connection] = "close"
        do {
            try await channel.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [.head(HTTPResponse(status: error.status, headerFields: headers)), .body(body), .end(nil)])
            }
        } catch {
            logger.trace("could not write a socket refusal", metadata: ["error": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades decided by `acceptSocket`; refusals answered by the HTTP router.
    static func chatServer(
        webSocket: WebSocketServerConfiguration,
        acceptSocket: @escaping ChatServerChannel.SocketAcceptor
    ) -> HTTPServerBuilder {
        .init { responder in
            // Idle keep-alive connections are closed after a minute, so abandoned ones do not pile up.
            ChatServerChannel(responder: responder, http1: .init(idleTimeout: .seconds(60) as TimeAmount), webSocket: webSocket, acceptSocket: acceptSocket)
        }
    }
}
