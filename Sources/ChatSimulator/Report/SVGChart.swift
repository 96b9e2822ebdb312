import Foundation

/// A line chart as inline SVG: axes with ticks and labels, one polyline per series (broken where
/// a value is missing), a legend. No script, no external reference: the page draws it as is.
struct LineChart {
    struct Series {
        var name: String
        /// A CSS colour, written as a presentation attribute.
        var color: String
        /// y by x; nil where there is no value (the line breaks there).
        var points: [(x: Double, y: Double?)]
        /// Dashed, so a line another one covers still shows.
        var dashed = false
    }

    /// Unique in the page: names the chart's `<title>` for screen readers.
    var id: String
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]

    private let width = 760.0, height = 340.0
    private let left = 72.0, right = 20.0, top = 44.0, bottom = 56.0

    init(id: String, title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.id = id
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    func svg() -> String {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.compactMap(\.y) }
        let xStep = Self.niceStep((xs.max() ?? 1) / 10, minimum: 1)
        let xMax = max(xStep, ((xs.max() ?? 1) / xStep).rounded(.up) * xStep)
        let yStep = Self.niceStep((ys.max() ?? 1) / 5, minimum: 0)
        let yMax = ys.contains { $0 > 0 } ? max(yStep, ((ys.max() ?? 1) / yStep).rounded(.up) * yStep) : 1
        let yTick = ys.contains { $0 > 0 } ? yStep : 0.2
        func px(_ x: Double) -> Double { left + x / xMax * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - y / yMax * plotHeight }

        var out = #"<svg class="chart" viewBox="0 0 \#(Self.n(width)) \#(Self.n(height))" width="\#(Self.n(width))" height="\#(Self.n(height))" role="img" aria-labelledby="\#(HTML.escape(id))-title">"#
        out += #"<title id="\#(HTML.escape(id))-title">\#(HTML.escape(title))</title>"#
        out += #"<rect x="\#(Self.n(left))" y="\#(Self.n(top))" width="\#(Self.n(plotWidth))" height="\#(Self.n(plotHeight))" fill="rgb(251,251,253)" stroke="rgb(208,212,218)"/>"#
        // Grid and ticks.
        var y = 0.0
        while y <= yMax + yTick / 2 {
            out += #"<line x1="\#(Self.n(left))" y1="\#(Self.n(py(y)))" x2="\#(Self.n(left + plotWidth))" y2="\#(Self.n(py(y)))" stroke="rgb(228,231,235)"/>"#
            out += #"<text class="tick" x="\#(Self.n(left - 6))" y="\#(Self.n(py(y) + 4))" text-anchor="end">\#(HTML.escape(Self.label(y)))</text>"#
            y += yTick
        }
        var x = 0.0
        while x <= xMax + xStep / 2 {
            out += #"<line x1="\#(Self.n(px(x)))" y1="\#(Self.n(top + plotHeight))" x2="\#(Self.n(px(x)))" y2="\#(Self.n(top + plotHeight + 5))" stroke="rgb(138,147,158)"/>"#
            out += #"<text class="tick" x="\#(Self.n(px(x)))" y="\#(Self.n(top + plotHeight + 18))" text-anchor="middle">\#(HTML.escape(Self.label(x)))</text>"#
            x += xStep
        }
        // Axis labels.
        out += #"<text class="axis-label" x="\#(Self.n(left + plotWidth / 2))" y="\#(Self.n(height - 12))" text-anchor="middle">\#(HTML.escape(xLabel))</text>"#
        out += #"<text class="axis-label" x="16" y="\#(Self.n(top + plotHeight / 2))" text-anchor="middle" transform="rotate(-90 16 \#(Self.n(top + plotHeight / 2)))">\#(HTML.escape(yLabel))</text>"#
        // Series: a polyline per unbroken run of values; dots as well when few, so a lone value shows.
        let dots = (series.map(\.points.count).max() ?? 0) <= 120
        for line in series {
            var run: [String] = []
            func flush() {
                let dash = line.dashed ? #" stroke-dasharray="6 4""# : ""
                if run.count > 1 { out += #"<polyline fill="none" stroke="\#(HTML.escape(line.color))" stroke-width="2"\#(dash) points="\#(run.joined(separator: " "))"/>"# }
                run = []
            }
            for point in line.points {
                guard let value = point.y else {
                    flush()
                    continue
                }
                run.append("\(Self.n(px(point.x))),\(Self.n(py(value)))")
                if dots { out += #"<circle cx="\#(Self.n(px(point.x)))" cy="\#(Self.n(py(value)))" r="2.5" fill="\#(HTML.escape(line.color))"/>"# }
            }
            flush()
        }
        if ys.isEmpty {
            out += #"<text class="axis-label" x="\#(Self.n(left + plotWidth / 2))" y="\#(Self.n(top + plotHeight / 2))" text-anchor="middle">no data</text>"#
        }
        // Legend, above the plot.
        for (index, line) in series.enumerated() {
            let lx = left + Double(index) * 150
            let dash = line.dashed ? #" stroke-dasharray="6 4""# : ""
            out += #"<line x1="\#(Self.n(lx))" y1="18" x2="\#(Self.n(lx + 22))" y2="18" stroke="\#(HTML.escape(line.color))" stroke-width="3"\#(dash)/>"#
            out += #"<text class="legend" x="\#(Self.n(lx + 28))" y="22">\#(HTML.escape(line.name))</text>"#
        }
        return out + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at least `raw` (and `minimum`).
    static func niceStep(_ raw: Double, minimum: Double) -> Double {
        guard raw > 0, raw.isFinite else { return max(minimum, 1) }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return max(step, minimum)
    }

    /// A tick's label: whole numbers without decimals.
    static func label(_ value: Double) -> String {
        abs(value - value.rounded()) < 1e-9 ? String(format: "%.0f", value) : String(format: "%g", (value * 1000).rounded() / 1000)
    }

    /// A coordinate, short.
    static func n(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
