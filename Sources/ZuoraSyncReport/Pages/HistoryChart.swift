import Foundation
import Plot
import ZuoraSyncStore

/// The sync history as an inline SVG chart: one bar per run (its longest customer duration) and
/// a line of the changes it made, oldest on the left.
struct HistoryChart {
    var history: [RunHistoryRow]
    var maximumRuns = 40

    struct Point {
        var run: String
        var finishedAt: String
        var seconds: Double
        var changes: Int
        var isFailed: Bool
    }

    /// Per run, oldest first.
    var points: [Point] {
        let byRun = Dictionary(grouping: history, by: \.runID)
        return byRun.map { run, rows in
            Point(run: run, finishedAt: rows.map(\.finishedAt).max() ?? "",
                  seconds: Double(rows.map(\.durationMilliseconds).max() ?? 0) / 1000,
                  changes: rows.reduce(0) { $0 + $1.created + $1.updated + $1.deleted },
                  isFailed: rows.contains { $0.status != "succeeded" })
        }.sorted { ($0.finishedAt, $0.run) < ($1.finishedAt, $1.run) }.suffix(maximumRuns).map { $0 }
    }

    func render() -> PageNode {
        let points = self.points
        guard !points.isEmpty else { return Markup.element("p", Markup.cls("muted"), Markup.text("No runs recorded yet.")) }
        let width = 760.0, height = 200.0, left = 48.0, bottom = 26.0, top = 12.0, right = 80.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maxSeconds = max(points.map(\.seconds).max() ?? 1, 0.001)
        let maxChanges = max(Double(points.map(\.changes).max() ?? 1), 1)
        let step = plotWidth / Double(points.count)
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var nodes: [PageNode] = [
            Markup.attribute("xmlns", "http://www.w3.org/2000/svg"), Markup.attribute("viewBox", "0 0 \(f(width)) \(f(height))"),
            Markup.attribute("width", f(width)), Markup.attribute("height", f(height)), Markup.cls("chart"),
            Markup.attribute("role", "img"), Markup.attribute("aria-label", "sync history: duration and changes per run"),
            Markup.element("line", Markup.attribute("x1", f(left)), Markup.attribute("y1", f(top + plotHeight)), Markup.attribute("x2", f(left + plotWidth)),
                           Markup.attribute("y2", f(top + plotHeight)), Markup.attribute("stroke", "#d0d7de")),
            Markup.element("text", Markup.attribute("x", "2"), Markup.attribute("y", f(top + 10)), Markup.text(String(format: "%.1f s", maxSeconds))),
            Markup.element("text", Markup.attribute("x", f(width - right + 4)), Markup.attribute("y", f(top + 10)), Markup.text("\(Int(maxChanges)) changes")),
            Markup.element("text", Markup.attribute("x", f(left)), Markup.attribute("y", f(height - 6)),
                           Markup.text("bars: duration per run · line: workflows changed · red: a customer failed")),
        ]
        var line: [String] = []
        var dots: [PageNode] = []
        for (index, point) in points.enumerated() {
            let barHeight = plotHeight * point.seconds / maxSeconds
            let x = left + Double(index) * step
            nodes.append(Markup.element("rect", Markup.attribute("x", f(x + step * 0.15)), Markup.attribute("y", f(top + plotHeight - barHeight)),
                                        Markup.attribute("width", f(step * 0.7)), Markup.attribute("height", f(max(barHeight, 1))),
                                        Markup.attribute("fill", point.isFailed ? "#cf222e" : "#54aeff"),
                                        Markup.element("title", Markup.text("\(point.run): \(String(format: "%.1f", point.seconds)) s, \(point.changes) change(s)"))))
            let y = top + plotHeight - plotHeight * Double(point.changes) / maxChanges
            line.append("\(f(x + step / 2)),\(f(y))")
            dots.append(Markup.element("circle", Markup.attribute("cx", f(x + step / 2)), Markup.attribute("cy", f(y)), Markup.attribute("r", "3.5"),
                                       Markup.attribute("fill", "#8250df"),
                                       Markup.element("title", Markup.text("\(point.run): \(point.changes) change(s)"))))
        }
        nodes.append(Markup.element("polyline", Markup.attribute("points", line.joined(separator: " ")), Markup.attribute("fill", "none"),
                                    Markup.attribute("stroke", "#8250df"), Markup.attribute("stroke-width", "2")))
        nodes += dots
        return Markup.element("div", Markup.cls("graph"), Markup.element("svg", nodes))
    }
}
