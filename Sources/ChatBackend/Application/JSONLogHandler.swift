import Foundation
import Logging
import Synchronization

/// Writes each log record as one JSON object on one line (`LOG_FORMAT=json`), for log shippers:
/// `{"timestamp": "2026-12-02T03:04:05.678901Z", "level": "info", "label": "chat-server",
/// "message": "...", "metadata": {...}}`. Nested metadata stays nested; any other value is
/// written as its description.
public struct JSONLogHandler: LogHandler {
    private let label: String
    private let output: JSONLogOutput
    public var logLevel = Logger.Level.info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler writing the records of the logger `label` to `output` (standard output by default).
    public init(label: String, output: JSONLogOutput = .standardOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        let line = JSONValue.object([
            ("timestamp", .string(Timestamp.now.restText)),
            ("level", .string(event.level.rawValue)),
            ("label", .string(label)),
            ("message", .string(event.message.description)),
            // Sorted: the same record always reads the same, whatever the dictionary's order.
            ("metadata", .object(merged.sorted { $0.key < $1.key }.map { ($0.key, Self.json($0.value)) })),
        ]).serialized
        output.write(line)
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(members.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }
}

/// Where a ``JSONLogHandler`` writes its lines, one whole line at a time even when several
/// threads log at once.
public final class JSONLogOutput: Sendable {
    private let writeLine: Mutex<@Sendable (String) -> Void>

    /// Lines go to `writeLine`, one call per line (the newline not included).
    public init(_ writeLine: @escaping @Sendable (String) -> Void) {
        self.writeLine = Mutex(writeLine)
    }

    /// The process's standard output, flushed after each line so a shipper sees it at once.
    public static let standardOutput = JSONLogOutput { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The process's standard error (the admin commands keep standard output for their results).
    public static let standardError = JSONLogOutput { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func write(_ line: String) {
        writeLine.withLock { $0(line) }
    }
}
