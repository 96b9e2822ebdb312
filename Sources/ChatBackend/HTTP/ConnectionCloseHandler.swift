import NIOCore
import NIOHTTP1

/// Ends a connection after the response that says so, and makes every such response say so
/// (`Connection: close`, RFC 9112 §9.6): the answer to a request that asked to close, to an
/// HTTP/1.0 request without `keep-alive`, a response that already closes (a refused upgrade), and
/// the answer in flight when the server starts shutting down. A pooling client reads the header
/// and does not send its next request into a connection that is going away.
///
/// Requests that follow one asking to close are not read (§9.6: "MUST NOT process any further
/// requests"). The connection is half-closed after the last response, so the client sees its end
/// while what it still sends is read and dropped rather than answered with a reset.
final class ConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether each request read and not yet answered lets the connection stay open, oldest first
    /// (a client may send its next request before the answer to the last).
    private var keepAlive: [Bool] = []
    /// A request asked to close and has been read whole: whatever follows it is dropped.
    private var droppingRequests = false
    /// The request being read asked to close.
    private var readingLastRequest = false
    /// The server is shutting down: the answer in flight is the connection's last.
    private var quiescing = false
    /// The response being written is the connection's last.
    private var closingAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !droppingRequests else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive.append(head.isKeepAlive)
            readingLastRequest = !head.isKeepAlive
        case .body:
            break
        case .end:
            droppingRequests = readingLastRequest
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            let requestKeepsAlive = keepAlive.first ?? true
            closingAfterResponse = !(requestKeepsAlive && head.isKeepAlive) || quiescing
            if closingAfterResponse {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            if !keepAlive.isEmpty { keepAlive.removeFirst() }
            guard closingAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            written.futureResult.assumeIsolated().whenComplete { _ in
                context.close(mode: .output, promise: nil)
            }
            context.writeAndFlush(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }
}
