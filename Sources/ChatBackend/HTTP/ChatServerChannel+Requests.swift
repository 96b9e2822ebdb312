import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOWebSocket
@_spi(WSInternal) import WSCore

extension ChatServerChannel {
    /// The HTTP handlers of a connection that a socket opened on it replaces, its HTTP decoder
    /// aside (which leaves last, see ``switchToSocket(_:response:httpHandlers:maxFrameSize:)``).
    typealias HTTPHandlers = NIOLoopBound<[any RemovableChannelHandler]>

    /// Answers a connection's requests one after the other, as Hummingbird's `handleHTTP` does,
    /// except that a WebSocket upgrade request (``WebSocketHandshake``) goes to the router's socket
    /// route and, if admitted, the connection becomes that socket: NIO's upgrader only ever looks
    /// at the first request, and pooling clients (aiohttp's `ws_connect` after a REST call on the
    /// same session) open their sockets on connections that already served requests.
    ///
    /// Not `handleHTTP` itself, because its end closes the connection, and the socket has to run
    /// before that.
    func serveRequests(
        _ asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, httpHandlers: HTTPHandlers, logger: Logger
    ) async {
        let channel = asyncChannel.channel
        do {
            try await withTaskCancellationHandler {
                try await asyncChannel.executeThenClose { inbound, outbound in
                    var parts = inbound.makeAsyncIterator()
                    do {
                        guard let first = try await parts.next() else { return }
                        guard case .head(var head) = first else { throw UnexpectedRequestPart(part: first) }
                        while true {
                            if let handshake = WebSocketHandshake(head) {
                                try await upgradeInPlace(
                                    head, handshake, parts: &parts, outbound: outbound, httpHandlers: httpHandlers,
                                    channel: channel, logger: logger
                                )
                                return
                            }
                            let request = Request(head: head, body: RequestBody(asyncSequence: RequestBodyParts(parts)))
                            try await responder(request, ResponseWriter(outbound: outbound), channel)
                            if request.headers[.connection] == "close" {
                                break
                            }
                            // What the route left of the body, then the next request's head.
                            var part = try await parts.next()
                            while case .body = part {
                                part = try await parts.next()
                            }
                            if case .end = part {
                                part = try await parts.next()
                            }
                            guard let part else { break }
                            guard case .head(let next) = part else { throw UnexpectedRequestPart(part: part) }
                            head = next
                        }
                    } catch is HTTPParserError {
                        logger.debug("HTTP parse error, closing connection")
                        try await outbound.write(.head(.init(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])))
                        try await outbound.write(.end(nil))
                    }
                    outbound.finish()
                    try await channel.closeFuture.get()
                }
            } onCancel: {
                channel.close(mode: .input, promise: nil)
            }
        } catch {
            logger.trace("Failed to read/write to Channel. Error: \(error)")
        }
    }

    /// Routes an upgrade request that is not the connection's first, and either writes the
    /// refusal (the connection ends after it, as after a refused first request) or turns the
    /// connection into the admitted socket and runs it.
    private func upgradeInPlace(
        _ head: HTTPRequest,
        _ handshake: WebSocketHandshake,
        parts: inout NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPResponsePart>,
        httpHandlers: HTTPHandlers,
        channel: any Channel,
        logger: Logger
    ) async throws {
        let routed = await Self.route(Request(head: head, body: .init(buffer: ByteBuffer())), socketResponder, channel: channel, logger: logger)
        // The request's own end; NIO's decoder reads nothing after an upgrade request's head.
        while let part = try await parts.next() {
            if case .end = part { break }
        }
        switch routed {
        case .refused(let refusal):
            try await outbound.write(contentsOf: refusal.parts)
        case .socket(let handler):
            let response = handshake.response
            let maxFrameSize = webSocket.maxFrameSize
            let socket = try await channel.eventLoop.submit {
                try Self.switchToSocket(channel, response: response, httpHandlers: httpHandlers.value, maxFrameSize: maxFrameSize)
            }.get()
            await socketHandler(handler)(socket, logger)
        }
    }

    /// Writes the 101 through the HTTP handlers, puts the socket's handlers in their place (as
    /// NIO's WebSocket upgrader does), and wraps the socket's end of the pipeline for WSCore, past
    /// the HTTP reader by way of the ``SocketDetour``. On the event loop, in one go, so no byte is
    /// read between the HTTP handlers leaving and the socket's arriving.
    private static func switchToSocket(
        _ channel: any Channel, response: HTTPResponse, httpHandlers: [any RemovableChannelHandler], maxFrameSize: Int
    ) throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let pipeline = channel.pipeline.syncOperations
        pipeline.write(NIOAny(HTTPResponsePart.head(response)), promise: nil)
        pipeline.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
        for handler in httpHandlers {
            pipeline.removeHandler(handler, promise: nil)
        }
        let detour = try pipeline.handler(type: SocketDetour.self)
        try pipeline.addHandlers(
            [WebSocketFrameEncoder(), ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)), WebSocketProtocolErrorHandler()],
            position: .before(detour)
        )
        try detour.openExit(on: pipeline)
        let socket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
            wrappingChannelSynchronously: channel,
            configuration: .init(isOutboundHalfClosureEnabled: true)
        )
        // Last, now that the socket's handlers are in place: the decoder hands on the bytes that
        // came after the upgrade request, which are the socket's, once it has left (NIO finishes
        // a decoder's removal in a later turn of the loop). The read complete then delivers them
        // to the socket's reader, which hands on what it read only at a read complete.
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        pipeline.removeHandler(decoder).assumeIsolated().whenSuccess {
            channel.pipeline.syncOperations.fireChannelReadComplete()
        }
        return socket
    }
}

/// A request part where another was due (a body before any head).
struct UnexpectedRequestPart: Error {
    let part: HTTPRequestPart
}

/// The body of the request being read, from the connection's stream of request parts: its body
/// parts, up to and including its end. What Hummingbird builds for its own request loop, which
/// is not public.
struct RequestBodyParts: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// The connection's iterator. Not Sendable, but only one task reads it at a time: the route
    /// while it reads the body, then the request loop, once the route has answered.
    private struct SharedParts: @unchecked Sendable {
        let iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator
    }

    private let parts: SharedParts
    /// Whether an iterator was made: a second would read the next request's parts.
    private let iterated = NIOLockedValueBox(false)

    init(_ parts: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator) {
        self.parts = SharedParts(iterator: parts)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var parts: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done, let part = try await parts.next() else { return nil }
            switch part {
            case .body(let buffer):
                return buffer
            case .end:
                done = true
                return nil
            case .head:
                throw UnexpectedRequestPart(part: part)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let done = iterated.withLockedValue { iterated in
            defer { iterated = true }
            return iterated
        }
        return AsyncIterator(parts: parts.iterator, done: done)
    }
}
