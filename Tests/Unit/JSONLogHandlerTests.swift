@testable import ChatBackend
import Foundation
import Logging
import Synchronization
import Testing

@Suite("JSON logs")
struct JSONLogHandlerTests {
    @Test("each record is one line of valid JSON: timestamp, level, label, message, metadata")
    func validLines() throws {
        let lines = Mutex<[String]>([])
        let output = JSONLogOutput { line in lines.withLock { $0.append(line) } }
        var logger = Logger(label: "chat-server") { JSONLogHandler(label: $0, output: output) }
        logger[metadataKey: "hb.request.id"] = "42"
        logger.info("GET /api/user/{uuid} 200", metadata: ["duration_ms": "1.5", "nested": ["a": ["x", "y"]]])
        logger.warning("a \"quoted\"\nline\twith\u{1} control characters")
        logger.debug("below the level: not written")

        let written = lines.withLock { $0 }
        #expect(written.count == 2)
        for line in written {
            #expect(!line.contains("\n"), "one record, one line")
            // Foundation's parser, not the project's own: a shipper reads it with another parser.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["timestamp", "level", "label", "message", "metadata"])
            #expect(object["label"] as? String == "chat-server")
            #expect((object["timestamp"] as? String)?.hasSuffix("Z") == true)
        }
        let first = try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["message"] as? String == "GET /api/user/{uuid} 200")
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["hb.request.id"] as? String == "42")
        #expect(metadata["duration_ms"] as? String == "1.5")
        #expect((metadata["nested"] as? [String: Any])?["a"] as? [String] == ["x", "y"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(written[1].utf8)) as? [String: Any])
        #expect(second["message"] as? String == "a \"quoted\"\nline\twith\u{1} control characters")
    }

    @Test("LOG_FORMAT and METRICS_TOKEN are read; a bad format is refused")
    func configuration() throws {
        #expect(try AppConfiguration.fromEnvironment([:]).logFormat == .text)
        #expect(try AppConfiguration.fromEnvironment([:]).metricsToken == nil)
        let set = try AppConfiguration.fromEnvironment(["LOG_FORMAT": "JSON", "METRICS_TOKEN": "t0ken"])
        #expect(set.logFormat == .json)
        #expect(set.metricsToken == "t0ken")
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["LOG_FORMAT": "xml"]) }
    }
}
