import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// One client connection, written and read byte by byte: for what the server does with the
/// connection itself (keep-alive, `Connection: close`, deadlines, caps), which HTTP clients hide.
final class RawConnection {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    /// Bytes received and not yet taken by a read.
    private var received = ByteBuffer()
    /// The server closed its side (or the connection was reset).
    private(set) var isClosed = false

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        self.channel = channel
        self.inbound = channel.inbound.makeAsyncIterator()
    }

    static func open(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    func send(_ text: String) async throws {
        try await channel.outbound.write(ByteBuffer(string: text))
    }

    /// The writing side alone, for a task that sends while the test reads.
    var outbound: NIOAsyncChannelOutboundWriter<ByteBuffer> { channel.outbound }

    /// Reads one response (head, and a body of its `Content-Length`); nil when the connection
    /// ends first.
    func readResponse(timeout: Duration = .seconds(10)) async throws -> RawResponse? {
        try await withDeadline(timeout) {
            while true {
                if let response = RawResponse.take(from: &received) { return response }
                guard try await receiveMore() else { return nil }
            }
        }
    }

    /// Reads until the server ends the connection, and returns what came before; throws when it
    /// is still open after `timeout`.
    func readUntilClosed(timeout: Duration = .seconds(10)) async throws -> String {
        try await withDeadline(timeout) {
            while try await receiveMore() {}
            return String(buffer: received)
        }
    }

    /// Sends `text` as one WebSocket text frame (``textFrame(_:)``).
    func sendTextFrame(_ text: String) async throws {
        try await channel.outbound.write(Self.textFrame(text))
    }

    /// `text` as one WebSocket text frame, masked as a client's must be (RFC 6455 §5.3).
    static func textFrame(_ text: String) -> ByteBuffer {
        let payload = Array(text.utf8)
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var frame = ByteBuffer()
        frame.writeInteger(UInt8(0x81))  // FIN, text
        if payload.count < 126 {
            frame.writeInteger(UInt8(0x80 | payload.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.count))
        }
        frame.writeBytes(mask)
        frame.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        return frame
    }

    /// Reads one unmasked WebSocket frame, as a server sends them; nil when the connection ends first.
    func readFrame(timeout: Duration = .seconds(10)) async throws -> RawFrame? {
        try await withDeadline(timeout) {
            while true {
                if let frame = RawFrame.take(from: &received) { return frame }
                guard try await receiveMore() else { return nil }
            }
        }
    }

    func close() async {
        channel.outbound.finish()
        try? await channel.channel.close()
    }

    deinit {
        // NIO insists the writer is finished, also when a failed test leaves a connection behind.
        channel.outbound.finish()
        channel.channel.close(promise: nil)
    }

    /// Waits for more bytes; false once the connection has ended.
    private func receiveMore() async throws -> Bool {
        guard !isClosed else { return false }
        do {
            if var chunk = try await inbound.next() {
                received.writeBuffer(&chunk)
                return true
            }
        } catch {
            // A reset ends the connection as surely as a close does.
        }
        isClosed = true
        return false
    }

    /// Runs `body`, failing if it takes longer than `timeout`: the connection is closed under it,
    /// which ends any read it is waiting on.
    private func withDeadline<T>(_ timeout: Duration, _ body: () async throws -> T) async throws -> T {
        let timedOut = Atomic(false)
        let channel = self.channel.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let result = try await body()
        if timedOut.load(ordering: .relaxed) { throw TestFailure("the server kept the connection open past \(timeout)") }
        return result
    }
}

/// A response as it came over the wire.
struct RawResponse {
    /// `HTTP/1.1 200 OK`.
    let statusLine: String
    let headers: [(name: String, value: String)]
    let body: String

    var status: Int { Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0 }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The server says it closes the connection after this response.
    var saysClose: Bool {
        header("connection")?.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" } ?? false
    }

    /// Takes one whole response from the front of `buffer`, if it holds one.
    static func take(from buffer: inout ByteBuffer) -> RawResponse? {
        let text = String(buffer: buffer)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let headBytes = text[..<headEnd.upperBound].utf8.count
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        guard buffer.readableBytes >= headBytes + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headBytes)
        let body = buffer.readString(length: length) ?? ""
        buffer.discardReadBytes()
        return RawResponse(statusLine: lines[0], headers: headers, body: body)
    }
}

/// A WebSocket frame as it came over the wire.
struct RawFrame {
    /// 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong.
    let opcode: UInt8
    let payload: [UInt8]

    var text: String { String(decoding: payload, as: UTF8.self) }

    /// Takes one whole unmasked frame from the front of `buffer`, if it holds one.
    static func take(from buffer: inout ByteBuffer) -> RawFrame? {
        var view = buffer
        guard let first = view.readInteger(as: UInt8.self), let second = view.readInteger(as: UInt8.self) else { return nil }
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = view.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = view.readInteger(as: UInt64.self) else { return nil }
            length = Int(extended)
        }
        guard let payload = view.readBytes(length: length) else { return nil }
        buffer = view
        buffer.discardReadBytes()
        return RawFrame(opcode: first & 0x0F, payload: payload)
    }
}
