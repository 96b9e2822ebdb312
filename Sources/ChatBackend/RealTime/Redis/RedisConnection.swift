import CHiredis
import Foundation

/// One blocking hiredis connection. Every call blocks its thread: callers run it on a thread pool
/// or a thread of their own, never on an event loop.
final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?

    /// Connects, or throws with hiredis's reason.
    init(host: String, port: Int, timeout: Duration) throws {
        let seconds = timeout.components.seconds
        let micro = timeout.components.attoseconds / 1_000_000_000_000
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(tv_sec: Int(seconds), tv_usec: Int(micro))) else {
            throw RedisError("cannot allocate a Redis context")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw RedisError("cannot connect to Redis at \(host):\(port): \(reason)")
        }
        self.context = context
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Sends one command and returns its reply.
    @discardableResult
    func command(_ arguments: [String]) throws -> RedisReply {
        guard let context else { throw RedisError("connection closed") }
        let reply = withArgv(arguments) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
        return try take(reply)
    }

    /// Sends several commands in one write and returns their replies, in order (pipelining: one
    /// round trip for all of them). A command's error reply is returned, not thrown.
    func pipeline(_ commands: [[String]]) throws -> [RedisReply] {
        guard let context else { throw RedisError("connection closed") }
        for arguments in commands {
            let status = withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
            guard status == REDIS_OK else { throw RedisError(Self.errorText(context)) }
        }
        return try commands.map { _ in
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw RedisError(Self.errorText(context)) }
            defer { freeReplyObject(reply) }
            return RedisReply(reply.assumingMemoryBound(to: redisReply.self))
        }
    }

    /// The socket, for `poll`.
    var fileDescriptor: Int32 {
        context?.pointee.fd ?? -1
    }

    /// Queues a command to be written by ``flush()``, without waiting for its reply (a
    /// subscriber's SUBSCRIBE: its confirmation comes among the messages).
    func append(_ arguments: [String]) throws {
        guard let context else { throw RedisError("connection closed") }
        let status = withArgv(arguments) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
        guard status == REDIS_OK else { throw RedisError(Self.errorText(context)) }
    }

    /// Writes every queued command.
    func flush() throws {
        guard let context else { throw RedisError("connection closed") }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw RedisError(Self.errorText(context)) }
        }
    }

    /// Reads what the socket has (call when `poll` says it is readable: it does not wait for more).
    func readAvailable() throws {
        guard let context else { throw RedisError("connection closed") }
        guard redisBufferRead(context) == REDIS_OK else { throw RedisError(Self.errorText(context)) }
    }

    /// A reply read already, if a whole one is buffered; never reads the socket.
    func bufferedReply() throws -> RedisReply? {
        guard let context else { throw RedisError("connection closed") }
        var reply: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &reply) == REDIS_OK else { throw RedisError(Self.errorText(context)) }
        guard let reply else { return nil }
        return try take(reply)
    }

    /// Waits for the next reply (a subscriber's next message).
    func nextReply() throws -> RedisReply {
        guard let context else { throw RedisError("connection closed") }
        var reply: UnsafeMutableRawPointer?
        guard redisGetReply(context, &reply) == REDIS_OK else { throw RedisError(Self.errorText(context)) }
        return try take(reply)
    }

    /// Makes a blocked `nextReply` on another thread return with an error, so the connection can be dropped.
    func interrupt() {
        if let fd = context?.pointee.fd, fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func take(_ raw: UnsafeMutableRawPointer?) throws -> RedisReply {
        guard let raw else { throw RedisError(context.map(Self.errorText) ?? "no reply") }
        defer { freeReplyObject(raw) }
        let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
        if case .error(let message) = reply { throw RedisError(message) }
        return reply
    }

    private func withArgv<T>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T) -> T {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var argv = cStrings.map { UnsafePointer($0) }
        let lengths = arguments.map { $0.utf8.count }
        return argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                body(Int32(arguments.count), argvBuffer.baseAddress!, lengthBuffer.baseAddress!)
            }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { buffer in
            String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// A reply, copied out of hiredis's memory.
enum RedisReply: Equatable {
    case string(String)
    case integer(Int64)
    case array([RedisReply])
    case status(String)
    case error(String)
    case null

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let value = reply.pointee
        func text() -> String {
            guard let pointer = value.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: pointer, count: value.len), as: UTF8.self)
        }
        switch value.type {
        case REDIS_REPLY_STRING: self = .string(text())
        case REDIS_REPLY_STATUS: self = .status(text())
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_INTEGER: self = .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            self = .array((0..<value.elements).compactMap { value.element[$0].map(RedisReply.init) })
        default: self = .null
        }
    }
}

/// Redis failed or is unreachable.
struct RedisError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
