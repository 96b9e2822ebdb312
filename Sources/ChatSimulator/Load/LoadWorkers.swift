import Foundation
import Synchronization

/// A worker as the parent of a load run sees it: in this process, or a child process.
protocol LoadWorker: Sendable {
    /// Opens the setup's sockets.
    func open(_ setup: WorkerSetup) async throws -> WorkerReady
    /// Sends the share, drains, and returns the recording.
    func run(_ start: WorkerStart) async throws -> WorkerRecording
    /// Messages sent and broadcasts received so far (for the progress line).
    var progress: (sent: Int, received: Int) { get }
    /// Ends the worker if it still runs (a run that failed half-way).
    func stop() async
}

/// The worker in the parent's own process: the run with one worker.
final class LocalWorker: LoadWorker {
    private let session = Mutex<LoadSession?>(nil)

    func open(_ setup: WorkerSetup) async throws -> WorkerReady {
        let (session, ready) = await LoadSession.open(setup)
        self.session.withLock { $0 = session }
        return ready
    }

    func run(_ start: WorkerStart) async throws -> WorkerRecording {
        guard let session = session.withLock({ $0 }) else { throw SimulatorError("the worker's sockets were never opened") }
        return await session.run(start)
    }

    var progress: (sent: Int, received: Int) {
        session.withLock { $0 }?.progress ?? (0, 0)
    }

    func stop() async {
        await session.withLock { $0 }?.close()
    }
}

/// A `chat-sim load-worker` child process, spoken to in JSON lines: the plan on its standard
/// input, ``WorkerMessage``s on its standard output. Its standard error is the parent's.
final class ProcessWorker: LoadWorker {
    private let number: Int
    private let process: Process
    private let input: FileHandle
    private let messages = Mailbox<WorkerMessage>()
    private let latest = LatestProgress()

    /// The worker's last progress line, written by the reading thread.
    private final class LatestProgress: Sendable {
        let sent = Atomic<Int>(0)
        let received = Atomic<Int>(0)
    }

    /// Starts `command` (an executable and its arguments), the worker numbered `number`.
    init(command: [String], number: Int) throws {
        guard let executable = command.first else { throw SimulatorError("no worker command") }
        self.number = number
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        input = stdin.fileHandleForWriting
        // A worker that dies must not kill the parent with SIGPIPE when it writes the plan.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        let messages = self.messages
        let latest = self.latest
        LineReader.start(stdout.fileHandleForReading) { line in
            guard let line else { return messages.finish() }
            switch try? JSONDecoder().decode(WorkerMessage.self, from: line) {
            case .progress(let sent, let received)?:
                latest.sent.store(sent, ordering: .relaxed)
                latest.received.store(received, ordering: .relaxed)
            case let message?: messages.put(message)
            case nil: messages.put(.failed("a line that is not a worker message: \(String(decoding: line.prefix(200), as: UTF8.self))"))
            }
        }
    }

    func open(_ setup: WorkerSetup) async throws -> WorkerReady {
        try await send(setup)
        switch await messages.next() {
        case .ready(let ready)?: return ready
        case let other: throw failure(other, while: "opening its sockets")
        }
    }

    func run(_ start: WorkerStart) async throws -> WorkerRecording {
        try await send(start)
        switch await messages.next() {
        case .done(let recording)?: return recording
        case let other: throw failure(other, while: "sending")
        }
    }

    var progress: (sent: Int, received: Int) { (latest.sent.load(ordering: .relaxed), latest.received.load(ordering: .relaxed)) }

    func stop() async {
        try? input.close()
        if process.isRunning { process.terminate() }
        await Task.detached { self.process.waitUntilExit() }.value
    }

    /// Writes one JSON line to the worker, off the concurrency pool (a pipe write can block).
    private func send(_ value: some Encodable & Sendable) async throws {
        var line = try JSONEncoder().encode(value)
        line.append(UInt8(ascii: "\n"))
        let input = self.input
        let data = line
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try input.write(contentsOf: data) })
            }
        }
    }

    private func failure(_ message: WorkerMessage?, while doing: String) -> SimulatorError {
        switch message {
        case .failed(let reason)?: return SimulatorError("worker \(number) failed while \(doing): \(reason)")
        case nil:
            let status = process.isRunning ? "still running" : "exit status \(process.terminationStatus)"
            return SimulatorError("worker \(number) ended while \(doing) without a word (\(status)); its standard error is above")
        case let other?: return SimulatorError("worker \(number) answered \(other) while \(doing)")
        }
    }
}

/// A queue of values from one producer to one consumer that waits for them.
final class Mailbox<Value: Sendable>: Sendable {
    private struct State {
        var queue: [Value] = []
        var waiter: CheckedContinuation<Value?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func put(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.queue.append(value)
            return nil
        }
        waiter?.resume(returning: value)
    }

    /// No more values: the consumer gets nil once the queue is empty.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next value, or nil once finished.
    func next() async -> Value? {
        await withCheckedContinuation { continuation in
            let now: Value?? = state.withLock { state in
                if !state.queue.isEmpty { return .some(state.queue.removeFirst()) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}

/// Reads lines from a file handle on a thread of its own (a blocking read must not hold one of
/// the concurrency pool's few threads for a whole run).
enum LineReader {
    /// Calls `line` with each line (without its newline), then with nil at the end of the input.
    static func start(_ handle: FileHandle, line: @escaping @Sendable (Data?) -> Void) {
        let thread = Thread {
            var buffer = Data()
            // `availableData`, not `read(upToCount:)`: on Linux the latter waits for the whole
            // count (or the end), and a worker's one short line would never arrive.
            while case let chunk = handle.availableData, !chunk.isEmpty {
                // Only the new bytes are searched: a worker's recording is one line of megabytes.
                var lineStart = buffer.startIndex
                var searchFrom = buffer.endIndex
                buffer.append(chunk)
                while let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                    line(Data(buffer[lineStart..<newline]))
                    lineStart = buffer.index(after: newline)
                    searchFrom = lineStart
                }
                buffer.removeSubrange(buffer.startIndex..<lineStart)
            }
            if !buffer.isEmpty { line(buffer) }
            line(nil)
        }
        thread.start()
    }
}
