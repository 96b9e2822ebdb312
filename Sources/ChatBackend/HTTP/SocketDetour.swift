import NIOCore

/// Carries a socket's traffic around a connection's HTTP reader, for a socket opened by a request
/// after the connection's first (see ``ChatServerChannel``).
///
/// The HTTP reader of a connection (the handler of its `NIOAsyncChannel`) cannot leave the
/// pipeline, and the socket's reader, a second `NIOAsyncChannel`, can only be added behind it. The
/// HTTP reader would take the socket's frames for HTTP parts (and trap), and once its reading has
/// ended it holds back every `read` asked for by a handler behind it. So the detour sits just in
/// front of the HTTP reader, and its ``Exit`` just behind it: once the exit is open, what is read
/// goes from the detour straight to the exit's successor, the socket's reader, and the reads,
/// writes and flushes the socket's reader asks for go from the exit straight to the detour's
/// predecessor. Everything else (read complete, errors, user events, the channel's end) passes
/// through the HTTP reader, which forwards it.
///
/// Until the exit is open, the detour passes everything on as it comes.
final class SocketDetour: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    typealias InboundOut = Any
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    /// The other end of the detour, behind the HTTP reader.
    final class Exit: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = Any
        typealias InboundOut = Any
        typealias OutboundIn = Any
        typealias OutboundOut = Any

        fileprivate let entrance: SocketDetour
        fileprivate var context: ChannelHandlerContext?

        fileprivate init(entrance: SocketDetour) {
            self.entrance = entrance
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // What the HTTP reader forwards: the detour sends nothing its way once the exit is
            // open, so this can only be an HTTP part read before, already handled by the reader.
        }

        func read(context: ChannelHandlerContext) {
            guard let front = entrance.context else { return context.read() }
            front.read()
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            guard let front = entrance.context else { return context.write(data, promise: promise) }
            front.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            guard let front = entrance.context else { return context.flush() }
            front.flush()
        }
    }

    fileprivate var context: ChannelHandlerContext?
    private var exit: Exit?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // The exit points back at the detour: let go of it, or the pair outlives the pipeline.
        self.exit = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exit = exit?.context else { return context.fireChannelRead(data) }
        exit.fireChannelRead(data)
    }

    /// Adds the exit at the end of the pipeline, behind the HTTP reader, and sends what is read
    /// from now on to whatever is added after it.
    func openExit(on pipeline: ChannelPipeline.SynchronousOperations) throws {
        let exit = Exit(entrance: self)
        try pipeline.addHandler(exit)
        self.exit = exit
    }
}
