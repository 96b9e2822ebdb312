import NIOCore
import NIOWebSocket

/// A socket's ``SocketWire`` over its NIO channel: frames are written into the pipeline from its
/// tail, as WSCore's own writer does, so they pass the same frame encoder.
struct ChannelSocketWire: SocketWire {
    let channel: any Channel

    func schedule(_ body: @escaping @Sendable () -> Void) {
        channel.eventLoop.execute(body)
    }

    func write(_ texts: [String], written: @escaping @Sendable (Bool) -> Void) {
        channel.eventLoop.preconditionInEventLoop()
        let pipeline = channel.pipeline.syncOperations
        // Writes complete in order: the last one's promise stands for them all.
        let promise = channel.eventLoop.makePromise(of: Void.self)
        for (index, text) in texts.enumerated() {
            let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
            pipeline.write(NIOAny(frame), promise: index == texts.count - 1 ? promise : nil)
        }
        pipeline.flush()
        promise.futureResult.whenComplete { written((try? $0.get()) != nil) }
    }

    func closeConnection(after delay: Duration) {
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: TimeAmount(delay)) {
            channel.close(promise: nil)
        }
    }
}
