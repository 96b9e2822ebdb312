import Logging
import Synchronization

/// Keeps what the server logs, for tests of what it logs and at which level.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    private let kept = Mutex<[Record]>([])

    var records: [Record] { kept.withLock { $0 } }

    /// A factory for ``AppConfiguration/logHandler``.
    var factory: @Sendable (String) -> any LogHandler {
        { _ in Handler(recorder: self) }
    }

    fileprivate func keep(_ record: Record) {
        kept.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var logLevel = Logger.Level.trace
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.keep(Record(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}
