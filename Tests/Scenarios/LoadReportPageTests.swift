import ChatBackend
import ChatSimulator
import ChatTestSupport
import Foundation
import Testing

/// The HTML page of a load run (`chat-sim load --report-html`): what a person opening it sees
/// (the charts, every invariant, the profile, the comparison with a baseline), and that nothing
/// in it can run, whatever strings the server under test put in the report.
@Suite("Load report page")
struct LoadReportPageTests {
    /// One small in-process run, shared by the tests (each takes a copy of its report).
    static let run = Task { () throws -> LoadReport in
        let server = try await InProcessServer.start(storage: TestBackend.current.freshStorage(), googleKeys: LoadRunTests.keys)
        let report = try await LoadRunner(profile: LoadRunTests.small, seed: 26, baseURLs: [server.baseURL]).run()
        await server.stop()
        return report
    }

    @Test("the run is recorded second by second, adding up to the summary's totals")
    func timeline() async throws {
        let report = try await Self.run.value
        let seconds = report.timeline.seconds
        #expect(seconds.map(\.second) == Array(0..<seconds.count), "every second, none skipped")
        #expect(seconds.reduce(0) { $0 + $1.sent } == report.messagesSent)
        #expect(seconds.reduce(0) { $0 + $1.stored } == report.messagesStored)
        #expect(seconds.reduce(0) { $0 + $1.delivered } == report.deliveries)
        #expect(seconds.compactMap(\.latency).reduce(0) { $0 + $1.count } == report.deliveries)
        for latency in seconds.compactMap(\.latency) {
            #expect(latency.p50 <= latency.p90 && latency.p90 <= latency.p99 && latency.p99 <= latency.max)
        }
    }

    @Test("the page holds a chart of latency and one of throughput with their axis labels, every invariant with its result, the profile, and the baseline's rows coloured by direction")
    func page() async throws {
        let report = try await Self.run.value
        // A baseline twice as slow and twice as fast at storing, with errors this run does not have.
        var before = report
        before.deliveryLatency.p99 = report.deliveryLatency.p99 * 2 + 1
        before.messagesPerSecond = report.messagesPerSecond * 2 + 1
        before.errors = ["socket refused": 3]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("before-\(UUID().uuidString).json")
        try JSONEncoder().encode(before).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let comparison = ReportComparison(baseline: try ReportFigures.load(path: file.path), current: try ReportFigures(report))
        let html = LoadReportPage.render(report, comparison: comparison, options: [("--max-p99", "500 ms")])

        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(Self.occurrences(of: "<svg", in: html) == 2)
        for label in ["seconds since the first message was due", "latency, milliseconds", "messages per second"] {
            #expect(html.contains(">\(label)</text>"), "axis label \(label)")
        }
        for legend in ["p50", "p90", "p99", "max", "sent", "stored", "delivered"] {
            #expect(html.contains("class=\"legend\" x=") && html.contains(">\(legend)</text>"), "legend \(legend)")
        }
        #expect(html.contains("<polyline"), "the charts have lines")

        #expect(report.invariants.count >= 10)
        for invariant in report.invariants {
            #expect(html.contains("<tr><td>\(invariant.name)</td><td>\(HTML.escape(invariant.rule))</td><td class=\"pass\">pass</td>"), "\(invariant.name)")
        }
        for option in ["<td>users</td><td>6</td>", "<td>socket authentication</td><td>token</td>", "<td>--max-p99</td><td>500 ms</td>"] {
            #expect(html.contains(option), "\(option)")
        }

        let verdicts = Self.comparisonVerdicts(html)
        #expect(verdicts["delivery latency p99"] == "better", "lower latency is better: \(verdicts)")
        #expect(verdicts["messages stored per second"] == "worse", "lower throughput is worse: \(verdicts)")
        #expect(verdicts["errors"] == "better", "\(verdicts)")
        #expect(verdicts["invariant violations"] == "unchanged", "\(verdicts)")
        #expect(verdicts.count == comparison.rows.count && comparison.rows.count >= 15)
        #expect(html.contains("<h2>Compared with \(file.lastPathComponent)</h2>"))

        try Self.expectInert(html)
    }

    @Test("hostile strings in every label stay inert: escaped text, no element or attribute of theirs")
    func hostileStrings() async throws {
        var report = try await Self.run.value
        let hostile = "</script><img src=x onerror=alert(1)><svg onload=alert(2)>\"'&amp;"
        var generator = SeededGenerator(seed: UInt64.random(in: 1...UInt64.max))
        let pieces = ["<", ">", "&", "\"", "'", "/", "=", " ", "script", "img", "onerror", "svg", "a", "href", "javascript:", "<!--", "]]>", "\u{0}"]
        let random = (0..<40).map { _ in (0..<12).map { _ in pieces.randomElement(using: &generator)! }.joined() }

        report.server = hostile
        report.errors = Dictionary(uniqueKeysWithValues: ([hostile] + random).enumerated().map { ($1, $0 + 1) })
        report.violations = [hostile] + random
        report.thresholdFailures = [hostile]
        report.invariants[0].violations = 1
        report.invariants[0].examples = [hostile] + random.prefix(4)
        report.simulatorCPU[0].process = hostile
        let problem: JSONValue = [
            "state": "closed", "client": .string(hostile), "chat": .string(random[0]), "worker": 1, "closeCode": 1008,
            "closeReason": .string(hostile), "ending": .string(hostile), "received": 1, "expected": 3,
        ]
        report.socketProblems = [try JSONDecoder().decode(SocketProblem.self, from: Data(problem.serialized.utf8))]
        let baseline = try ReportFigures(json: JSONValue.parse(JSONEncoder().encode(report)), source: hostile)
        let html = LoadReportPage.render(report, comparison: ReportComparison(baseline: baseline, current: try ReportFigures(report)), options: [(hostile, hostile)])

        #expect(!html.contains(hostile))
        #expect(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;svg onload=alert(2)&gt;&quot;&#39;&amp;amp;"))
        for text in random { #expect(html.contains(HTML.escape(text).replacingOccurrences(of: "\u{0}", with: "\u{FFFD}"))) }
        try Self.expectInert(html)
    }

    // MARK: Checks

    /// The page's elements are the renderer's own, balanced, with no event handler, script,
    /// or reference to anything outside the page.
    static func expectInert(_ html: String) throws {
        let allowed: Set<String> = [
            "html", "head", "meta", "link", "title", "style", "body", "header", "main", "footer", "section", "h1", "h2", "h3", "p", "span",
            "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption",
            "svg", "rect", "line", "polyline", "circle", "text",
        ]
        let attributes: Set<String> = [
            "lang", "charset", "http-equiv", "content", "name", "rel", "href", "class", "id", "colspan", "viewbox", "width", "height",
            "role", "aria-labelledby", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "fill", "stroke", "stroke-width",
            "stroke-dasharray", "points", "text-anchor", "transform",
        ]
        let void: Set<String> = ["meta", "link"]
        var open: [String] = []
        let tag = /<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s=>\/]+(?:="[^"]*")?)*)\s*(\/?)>/
        let attribute = /\s+([^\s=>\/]+)(?:="([^"]*)")?/
        let body = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
        // Every `<` of the page starts one of the renderer's tags: escaped text has none.
        #expect(Self.occurrences(of: "<", in: body) == body.matches(of: tag).count, "a '<' outside a well-formed tag")
        for match in body.matches(of: tag) {
            let name = String(match.2).lowercased()
            #expect(allowed.contains(name), "element <\(name)>")
            for found in String(match.3).matches(of: attribute) {
                let key = String(found.1).lowercased()
                #expect(attributes.contains(key), "attribute \(key) on <\(name)>")
                #expect(!key.hasPrefix("on"), "event handler \(key)")
                if key == "href" { #expect(found.2 == "data:," && name == "link", "the one href is the empty icon") }
            }
            if !match.1.isEmpty {
                #expect(open.popLast() == name, "</\(name)> closes what it opened")
            } else if match.4.isEmpty, !void.contains(name) {
                open.append(name)
            }
        }
        #expect(open.isEmpty, "unclosed: \(open)")
        #expect(!html.lowercased().contains("url("), "no CSS reference to anything outside")
        #expect(html.contains("default-src 'none'"), "the browser is told to fetch nothing")
    }

    /// The verdict of each comparison row, by figure.
    static func comparisonVerdicts(_ html: String) -> [String: String] {
        var verdicts: [String: String] = [:]
        for match in html.matches(of: /<tr class="(better|worse|unchanged)"><td>([^<]+)<\/td>/) {
            verdicts[String(match.2)] = String(match.1)
        }
        return verdicts
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }
}

/// A reproducible generator for the random strings (the seed is in the failure's values).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
