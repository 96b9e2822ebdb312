import Foundation

/// A load report as one self-contained HTML5 page: the charts are inline SVG drawn here, the
/// style is inline, and nothing is fetched (a Content-Security-Policy allowing no source at all
/// but the inline style says so to the browser too). No script, no event handler. Every string
/// that is not the page's own goes through ``HTML/escape(_:)``.
public enum LoadReportPage {
    /// The page for `report`; with `comparison`, a table of what got better or worse against a
    /// baseline run. `options` are the command-line settings beside the profile (thresholds,
    /// drain), shown with it.
    public static func render(
        _ report: LoadReport, comparison: ReportComparison? = nil, options: [(name: String, value: String)] = [], generated: Date = Date()
    ) -> String {
        var page = Page()
        let verdict = report.passed ? "PASS" : "FAIL"
        page.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        page.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
        page.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        // An empty icon of its own, so a browser asks no server for /favicon.ico.
        page.raw("<link rel=\"icon\" href=\"data:,\">\n")
        page.raw("<title>\(HTML.escape("chat-sim load report: \(verdict), \(report.server)"))</title>\n<style>\(style)</style>\n</head>\n<body>\n")

        page.raw("<header><h1>Load report <span class=\"verdict \(report.passed ? "pass" : "fail")\">\(verdict)</span></h1>\n")
        page.paragraph("Server \(report.server), seed \(report.seed); generated \(ISO8601DateFormatter().string(from: generated)).")
        page.raw("</header>\n<main>\n")

        profile(report, options: options, into: &page)
        summary(report, into: &page)
        charts(report, into: &page)
        latencies(report, into: &page)
        invariants(report, into: &page)
        errors(report, into: &page)
        sockets(report, into: &page)
        if let hostile = report.hostile { self.hostile(hostile, report: report, into: &page) }
        cpu(report, into: &page)
        if let comparison { compared(comparison, into: &page) }
        page.raw("</main>\n<footer><p>Written by chat-sim load. Charts: inline SVG, no script.</p></footer>\n</body>\n</html>\n")
        return page.text
    }

    // MARK: Sections

    private static func profile(_ report: LoadReport, options: [(name: String, value: String)], into page: inout Page) {
        let profile = report.profile
        var rows: [[String]] = [
            ["users", "\(profile.users)"], ["group chats", "\(profile.chats)"], ["members per chat", "\(profile.groupSize)"],
            ["rate", "\(number(profile.rate)) msg/s"], ["ramp-up", "\(number(profile.rampUp)) s"], ["duration", "\(number(profile.duration)) s"],
            ["history checked at the end", profile.checkHistory ? "yes" : "no"], ["REST probes", "\(number(profile.restProbes))/s"],
            ["hostile clients", profile.hostile.isEmpty ? "none" : profile.hostile.spec], ["worker processes", "\(profile.workers)"],
            ["socket authentication", profile.socketAuth.rawValue], ["drain limit", "\(number(report.drain.limit)) s"],
        ]
        rows += options.map { [$0.name, $0.value] }
        page.section("profile", "Profile (options used)") { page in
            page.table(header: ["option", "value"], rows: rows)
        }
    }

    private static func summary(_ report: LoadReport, into page: inout Page) {
        page.section("summary", "Summary") { page in
            page.table(header: ["figure", "value"], rows: [
                ["messages sent", "\(report.messagesSent)"],
                ["messages stored (came back to their sender)", "\(report.messagesStored)"],
                ["messages refused (the sender was told)", "\(report.messagesRefused)"],
                ["deliveries", "\(report.deliveries) of \(report.expectedDeliveries) expected"],
                ["stored per second", String(format: "%.1f", report.messagesPerSecond)],
                ["deliveries per second", String(format: "%.1f", report.deliveriesPerSecond)],
                ["seconds of sending", String(format: "%.1f", report.secondsSending)],
                ["wait for the last broadcasts", report.drain.line],
            ])
            if !report.thresholdFailures.isEmpty {
                page.raw("<h3>Thresholds failed</h3>\n")
                page.list(report.thresholdFailures, className: "bad")
            }
        }
    }

    private static func charts(_ report: LoadReport, into page: inout Page) {
        let seconds = report.timeline.seconds
        func series(_ name: String, _ color: String, dashed: Bool = false, _ value: (LoadTimeline.Second) -> Double?) -> LineChart.Series {
            LineChart.Series(name: name, color: color, points: seconds.map { (Double($0.second), value($0)) }, dashed: dashed)
        }
        let latency = LineChart(
            id: "chart-latency", title: "Delivery latency by the second each message was sent",
            xLabel: "seconds since the first message was due", yLabel: "latency, milliseconds",
            series: [
                series("p50", "rgb(31,119,180)") { $0.latency?.p50 }, series("p90", "rgb(44,160,44)") { $0.latency?.p90 },
                series("p99", "rgb(255,127,14)") { $0.latency?.p99 }, series("max", "rgb(214,39,40)") { $0.latency?.max },
            ]
        )
        var flows = [
            // Dashed: where the server keeps up, stored lies on it.
            series("sent", "rgb(127,127,127)", dashed: true) { Double($0.sent) }, series("stored", "rgb(31,119,180)") { Double($0.stored) },
            series("delivered", "rgb(44,160,44)") { Double($0.delivered) },
        ]
        if seconds.contains(where: { $0.refused > 0 }) { flows.append(series("refused", "rgb(214,39,40)") { Double($0.refused) }) }
        let throughput = LineChart(
            id: "chart-throughput", title: "Messages sent, stored and delivered per second",
            xLabel: "seconds since the first message was due", yLabel: "messages per second", series: flows
        )
        page.section("latency-over-time", "Latency over time") { page in
            page.raw("<figure>" + latency.svg() + "\n")
            page.raw("<figcaption>p50, p90, p99 and max send-to-delivery latency of the messages sent in each second (every delivery of each).</figcaption></figure>\n")
        }
        page.section("throughput-over-time", "Throughput over time") { page in
            page.raw("<figure>" + throughput.svg() + "\n")
            page.raw("<figcaption>Messages sent, messages back at their sender (stored), broadcasts received by all sockets, and messages refused, in each second; the drain's seconds follow the last send.</figcaption></figure>\n")
        }
    }

    private static func latencies(_ report: LoadReport, into page: inout Page) {
        var rows = [("delivery (send to receipt)", report.deliveryLatency), ("socket connect", report.connectLatency), ("REST (set-up)", report.restLatency)]
        if let probe = report.probeLatency { rows.append(("REST (during sending)", probe)) }
        page.section("latency", "Latency (milliseconds)") { page in
            page.table(
                header: ["what", "p50", "p90", "p99", "p99.9", "max", "mean", "count"],
                rows: rows.map { name, l in [name] + [l.p50, l.p90, l.p99, l.p999, l.max, l.mean].map { String(format: "%.2f", $0) } + ["\(l.count)"] },
                numericFrom: 1
            )
        }
    }

    private static func invariants(_ report: LoadReport, into page: inout Page) {
        page.section("invariants", "Invariants") { page in
            if report.invariants.isEmpty {
                page.paragraph(report.violations.isEmpty ? "No invariant outcome recorded; no violation." : "No invariant outcome recorded; violations:")
                page.list(report.violations, className: "bad")
                return
            }
            page.raw("<table>\n<thead><tr><th>invariant</th><th>rule</th><th>result</th><th>violations</th></tr></thead>\n<tbody>\n")
            for outcome in report.invariants {
                let result = outcome.passed ? #"<td class="pass">pass</td>"# : #"<td class="fail">fail</td>"#
                page.raw("<tr><td>\(HTML.escape(outcome.name))</td><td>\(HTML.escape(outcome.rule))</td>\(result)<td class=\"num\">\(outcome.violations)</td></tr>\n")
                if !outcome.examples.isEmpty {
                    page.raw("<tr class=\"examples\"><td></td><td colspan=\"3\"><ul>")
                    for example in outcome.examples { page.raw("<li>\(HTML.escape(example))</li>") }
                    page.raw("</ul></td></tr>\n")
                }
            }
            page.raw("</tbody>\n</table>\n")
        }
    }

    private static func errors(_ report: LoadReport, into page: inout Page) {
        page.section("errors", "Errors and refusals") { page in
            page.paragraph("\(report.messagesRefused) message(s) refused by the server, which told their sender (not stored, expected by no one; their error frames are counted below).")
            if report.errors.isEmpty {
                page.paragraph("No error.")
            } else {
                let sorted = report.errors.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                page.table(header: ["kind", "count"], rows: sorted.map { [$0.key, "\($0.value)"] }, numericFrom: 1)
            }
        }
    }

    private static func sockets(_ report: LoadReport, into page: inout Page) {
        page.section("sockets", "Socket problems") { page in
            guard !report.socketProblems.isEmpty else {
                page.paragraph("Every socket stayed open and got every broadcast.")
                return
            }
            let shown = report.socketProblems.prefix(200)
            page.table(
                header: ["state", "client", "chat", "worker", "how it ended", "missed", "expected"],
                rows: shown.map { problem in
                    [problem.state.rawValue, problem.client, problem.chat, "\(problem.worker)", problem.ending ?? "", "\(problem.missed)", "\(problem.expected)"]
                }
            )
            if report.socketProblems.count > shown.count { page.paragraph("… and \(report.socketProblems.count - shown.count) more (all in the JSON report).") }
        }
    }

    private static func hostile(_ hostile: HostileReport, report: LoadReport, into page: inout Page) {
        page.section("hostile", "Hostile clients") { page in
            page.paragraph("\(hostile.profile.spec), for \(String(format: "%.1f", hostile.seconds)) s.")
            let rows = hostile.outcomes.keys.sorted().compactMap { kind -> [String]? in
                guard let outcome = hostile.outcomes[kind] else { return nil }
                let statuses = outcome.statuses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
                let errors = outcome.errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
                return [kind, "\(outcome.clients)", "\(outcome.attempts)", statuses, "\(outcome.closedByServer)", "\(outcome.framesStored)", "\(outcome.framesRateLimited)", errors]
            }
            page.table(header: ["kind", "clients", "attempts", "answers", "closed by server", "frames stored", "rate_limited", "errors"], rows: rows)
            if let baseline = report.baseline { page.paragraph(baseline.line(against: report.deliveryLatency.p99)) }
        }
    }

    private static func cpu(_ report: LoadReport, into page: inout Page) {
        guard !report.simulatorCPU.isEmpty else { return }
        page.section("cpu", "The simulator's CPU") { page in
            page.table(
                header: ["process", "% of a core", "% of the machine", "user s", "system s", "over s"],
                rows: report.simulatorCPU.map { usage in
                    [usage.process + (usage.includesServer ? " (with the in-process server)" : "")]
                        + [usage.percentOfCore, usage.percentOfMachine, usage.userSeconds, usage.systemSeconds, usage.seconds].map { String(format: "%.1f", $0) }
                },
                numericFrom: 1
            )
        }
    }

    private static func compared(_ comparison: ReportComparison, into page: inout Page) {
        page.section("comparison", "Compared with \(comparison.baseline.source)") { page in
            page.paragraph("Baseline: \(comparison.baseline.description.isEmpty ? comparison.baseline.source : comparison.baseline.description). Lower latencies, errors and violations are better; higher throughput and deliveries are better; a change within \(number(ReportComparison.tolerance * 100)) % is unchanged.")
            page.raw("<table class=\"comparison\">\n<thead><tr><th>figure</th><th>baseline</th><th>this run</th><th>change</th><th>verdict</th></tr></thead>\n<tbody>\n")
            for row in comparison.rows {
                let cells = [row.metric.title, ReportComparison.format(row.baseline, row.metric), ReportComparison.format(row.current, row.metric), row.change]
                page.raw("<tr class=\"\(row.verdict.rawValue)\">")
                for (index, cell) in cells.enumerated() { page.raw("<td\(index > 0 ? " class=\"num\"" : "")>\(HTML.escape(cell))</td>") }
                page.raw("<td class=\"verdict-cell\">\(row.verdict.rawValue)</td></tr>\n")
            }
            page.raw("</tbody>\n</table>\n")
        }
    }

    // MARK: Writing

    /// The page being written: raw markup the renderer wrote itself, and escaped text.
    private struct Page {
        var text = ""

        mutating func raw(_ markup: String) {
            text += markup
        }

        mutating func paragraph(_ words: String) {
            text += "<p>\(HTML.escape(words))</p>\n"
        }

        mutating func list(_ items: [String], className: String) {
            guard !items.isEmpty else { return }
            text += "<ul class=\"\(className)\">" + items.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul>\n"
        }

        mutating func section(_ id: String, _ title: String, _ body: (inout Page) -> Void) {
            text += "<section id=\"\(id)\">\n<h2>\(HTML.escape(title))</h2>\n"
            body(&self)
            text += "</section>\n"
        }

        /// A table of text cells; columns from `numericFrom` on are right-aligned numbers.
        mutating func table(header: [String], rows: [[String]], numericFrom: Int? = nil) {
            text += "<table>\n<thead><tr>" + header.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in rows {
                text += "<tr>" + row.enumerated().map { index, cell in
                    let numeric = numericFrom.map { index >= $0 } ?? false
                    return "<td\(numeric ? " class=\"num\"" : "")>\(HTML.escape(cell))</td>"
                }.joined() + "</tr>\n"
            }
            text += "</tbody>\n</table>\n"
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(format: "%.0f", value) : String(format: "%g", value)
    }

    private static let style = """
        body { font: 15px/1.45 system-ui, sans-serif; color: #1d2330; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; }
        h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d4da; }
        table { border-collapse: collapse; margin: 0.5rem 0; } th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .verdict { padding: 0.1rem 0.5rem; border-radius: 0.3rem; color: #fff; } .verdict.pass { background: #2e7d32; } .verdict.fail { background: #c62828; }
        td.pass { color: #2e7d32; font-weight: 600; } td.fail { color: #c62828; font-weight: 600; }
        ul.bad li, tr.examples li { color: #8e1c1c; }
        tr.better td { background: #e7f5e9; } tr.better .verdict-cell { color: #1b5e20; font-weight: 600; }
        tr.worse td { background: #fdeaea; } tr.worse .verdict-cell { color: #b71c1c; font-weight: 600; }
        tr.unchanged .verdict-cell { color: #59636e; }
        svg.chart { max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; fill: #1d2330; }
        svg text.tick { fill: #59636e; } figure { margin: 0; } figcaption { color: #59636e; font-size: 0.9rem; }
        footer { margin-top: 3rem; color: #59636e; font-size: 0.85rem; }
        """
}
