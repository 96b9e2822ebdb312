import NIOCore
import NIOHTTP1

/// Closes a connection whose client keeps the server waiting: silent between requests for longer
/// than the idle timeout, or taking longer than the request timeout to send one request, head and
/// body, counted from its first byte. A request that is late before any answer has begun gets 408.
///
/// Without it a client trickling a request (a byte every few seconds) holds a connection, and a file
/// descriptor, for as long as it likes: Hummingbird's idle timer counts whole request parts, so it
/// never fires while the bytes of a body keep coming.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let idleTimeout: TimeAmount
    private let requestTimeout: TimeAmount

    /// When the request being read began to arrive; nil between requests.
    private var readingSince: NIODeadline?
    /// Requests begun and not yet answered: while the server answers, the wait is not the client's.
    private var unanswered = 0
    /// An answer has begun for the oldest unanswered request.
    private var answering = false
    /// When the connection last became idle (opened, or a response ended).
    private var idleSince = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        idleSince = .now()
        if context.channel.isActive { armTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        idleSince = .now()
        armTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if readingSince == nil { readingSince = .now() }
            unanswered += 1
        case .body:
            break
        case .end:
            readingSince = nil
        }
        armTimer(context: context)
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived that do not make a whole head yet: the request's time starts with its first byte.
        if readingSince == nil, unanswered == 0 {
            readingSince = .now()
            armTimer(context: context)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            answering = true
        case .end where answering:
            answering = false
            unanswered = max(unanswered - 1, 0)
            idleSince = .now()
            armTimer(context: context)
        default:
            break
        }
        context.write(data, promise: promise)
    }

    /// When the client's time is up, if it is waited for at all.
    private var deadline: NIODeadline? {
        if let readingSince { return readingSince + requestTimeout }
        if unanswered > 0 { return nil }
        return idleSince + idleTimeout
    }

    /// Makes sure the timer fires by the current deadline; a timer that fires early just looks again.
    private func armTimer(context: ChannelHandlerContext) {
        guard let deadline else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerDeadline = nil
            self.timeUp(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timeUp(context: ChannelHandlerContext) {
        guard let deadline else { return }
        guard deadline <= .now() else {
            armTimer(context: context)
            return
        }
        guard readingSince != nil, !answering else {
            context.close(promise: nil)
            return
        }
        let head = HTTPResponseHead(
            version: .http1_1, status: .requestTimeout, headers: ["connection": "close", "content-length": "0"]
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
