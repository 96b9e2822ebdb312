import Foundation
import Synchronization

/// The `chat-sim load-worker` process: reads a ``WorkerSetup`` line, opens its sockets, answers
/// ``WorkerMessage/ready(_:)``; reads a ``WorkerStart`` line, sends and drains, reporting
/// progress every second, and answers ``WorkerMessage/done(_:)``. It ends when its standard input
/// does (a parent that died), so it never outlives its run.
public enum LoadWorkerMain {
    /// Runs the worker on standard input and output; returns its exit status.
    public static func run() async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let lines = Mailbox<Data>()
        LineReader.start(FileHandle.standardInput) { line in
            if let line { lines.put(line) } else { lines.finish() }
        }
        let output = Output()
        do {
            guard let setupLine = await lines.next() else { return 0 }
            let setup = try JSONDecoder().decode(WorkerSetup.self, from: setupLine)
            let (session, ready) = await LoadSession.open(setup)
            output.write(.ready(ready))
            guard let startLine = await lines.next() else {
                await session.close()
                return 0
            }
            let start = try JSONDecoder().decode(WorkerStart.self, from: startLine)
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    let (sent, received) = session.progress
                    output.write(.progress(sent: sent, received: received))
                }
            }
            let recording = await session.run(start)
            ticker.cancel()
            output.write(.done(recording))
            return 0
        } catch {
            output.write(.failed("\(error)"))
            return 1
        }
    }

    /// Standard output, one whole message per line whichever task writes it.
    private final class Output: Sendable {
        private let lock = Mutex(())

        func write(_ message: WorkerMessage) {
            guard var line = try? JSONEncoder().encode(message) else { return }
            line.append(UInt8(ascii: "\n"))
            lock.withLock { _ in try? FileHandle.standardOutput.write(contentsOf: line) }
        }
    }
}
