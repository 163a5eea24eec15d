import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncStore

/// The built-in layout, so every workflow page has a graph: tasks in layers by their longest path
/// from a start (cycles broken), left to right within a layer, arrows coloured by linkage type.
public struct LayeredGraphRenderer: TaskGraphRenderer {
    public var name: String { "built-in layered layout" }
    let boxWidth = 190.0, boxHeight = 46.0, columnGap = 28.0, rowGap = 54.0, margin = 16.0

    public init() {}

    static func color(_ linkageType: String) -> String {
        switch linkageType.lowercased() {
        case "success": return "#1a7f37"
        case "failure": return "#cf222e"
        default: return "#57606a"
        }
    }

    /// Layer (row) of each task: longest path from the tasks nothing points at.
    func layers(tasks: [TaskOverview], linkages: [LinkageOverview]) -> [Int64: Int] {
        let ids = Set(tasks.map(\.zuoraTaskID))
        var outgoing: [Int64: [Int64]] = [:]
        var incoming: [Int64: Int] = Dictionary(uniqueKeysWithValues: ids.map { ($0, 0) })
        for linkage in linkages {
            guard let source = linkage.sourceTaskID, let target = linkage.targetTaskID, ids.contains(source), ids.contains(target),
                  source != target else { continue }
            outgoing[source, default: []].append(target)
            incoming[target, default: 0] += 1
        }
        var layer: [Int64: Int] = [:]
        var queue = tasks.map(\.zuoraTaskID).filter { incoming[$0] == 0 }
        for id in queue { layer[id] = 0 }
        var remaining = incoming
        while !queue.isEmpty {
            let id = queue.removeFirst()
            for next in outgoing[id] ?? [] {
                layer[next] = max(layer[next] ?? 0, (layer[id] ?? 0) + 1)
                remaining[next, default: 1] -= 1
                if remaining[next] == 0 { queue.append(next) }
            }
        }
        // Tasks on a cycle: below everything placed so far.
        let bottom = (layer.values.max() ?? -1) + 1
        for task in tasks where layer[task.zuoraTaskID] == nil { layer[task.zuoraTaskID] = bottom }
        return layer
    }

    public func render(tasks: [TaskOverview], linkages: [LinkageOverview]) -> PageNode? {
        guard !tasks.isEmpty else { return nil }
        let known = Set(tasks.map(\.zuoraTaskID))
        // Linkages from outside the workflow's tasks (the workflow's start) come from a Start node on top.
        let startLinks = linkages.filter { link in
            link.targetTaskID.map(known.contains) == true && (link.sourceTaskID.map { !known.contains($0) } ?? true)
        }
        let offset = startLinks.isEmpty ? 0 : 1
        let layerOf = layers(tasks: tasks, linkages: linkages)
        var rows: [Int: [TaskOverview]] = [:]
        for task in tasks { rows[(layerOf[task.zuoraTaskID] ?? 0) + offset, default: []].append(task) }
        if offset == 1 { rows[0] = [] }
        let widest = rows.values.map(\.count).max() ?? 1
        let width = margin * 2 + Double(widest) * boxWidth + Double(widest - 1) * columnGap
        let height = margin * 2 + Double(rows.count) * boxHeight + Double(max(0, rows.count - 1)) * rowGap
        var position: [Int64: (x: Double, y: Double)] = [:]
        for (row, items) in rows where !items.isEmpty {
            let rowWidth = Double(items.count) * boxWidth + Double(items.count - 1) * columnGap
            let left = (width - rowWidth) / 2
            for (index, task) in items.enumerated() {
                position[task.zuoraTaskID] = (left + Double(index) * (boxWidth + columnGap), margin + Double(row) * (boxHeight + rowGap))
            }
        }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        var nodes: [PageNode] = [
            Markup.attribute("xmlns", "http://www.w3.org/2000/svg"),
            Markup.attribute("viewBox", "0 0 \(number(width)) \(number(height))"),
            Markup.attribute("width", number(width)), Markup.attribute("height", number(height)),
            Markup.attribute("role", "img"), Markup.attribute("aria-label", "task graph"),
            Markup.element("defs", Markup.element("marker", Markup.attribute("id", "arrow"), Markup.attribute("viewBox", "0 0 10 10"),
                                                  Markup.attribute("refX", "10"), Markup.attribute("refY", "5"),
                                                  Markup.attribute("markerWidth", "7"), Markup.attribute("markerHeight", "7"),
                                                  Markup.attribute("orient", "auto-start-reverse"),
                                                  Markup.element("path", Markup.attribute("d", "M 0 0 L 10 5 L 0 10 z"),
                                                                 Markup.attribute("fill", "#57606a")))),
        ]
        let start = (x: width / 2 - boxWidth / 2, y: margin)
        if offset == 1 {
            nodes.append(Markup.element("g", Markup.cls("start"),
                Markup.element("ellipse", Markup.attribute("cx", number(width / 2)), Markup.attribute("cy", number(margin + boxHeight / 2)),
                               Markup.attribute("rx", "34"), Markup.attribute("ry", number(boxHeight / 2)),
                               Markup.attribute("fill", "#dafbe1"), Markup.attribute("stroke", "#1a7f37")),
                Markup.element("text", Markup.attribute("x", number(width / 2)), Markup.attribute("y", number(margin + boxHeight / 2 + 4)),
                               Markup.attribute("text-anchor", "middle"), Markup.attribute("font-size", "12"), Markup.text("Start"))))
        }
        for linkage in linkages {
            let isFromStart = linkage.sourceTaskID.map { position[$0] == nil } ?? true
            guard let source = isFromStart ? (offset == 1 ? start : nil) : linkage.sourceTaskID.flatMap({ position[$0] }),
                  let target = linkage.targetTaskID.flatMap({ position[$0] }) else { continue }
            let x1 = source.x + boxWidth / 2, y1 = source.y + boxHeight
            let x2 = target.x + boxWidth / 2, y2 = target.y
            let color = Self.color(linkage.linkageType)
            let path = y2 > y1 ? "M \(number(x1)) \(number(y1)) C \(number(x1)) \(number(y1 + rowGap / 2)), \(number(x2)) \(number(y2 - rowGap / 2)), \(number(x2)) \(number(y2))"
                : "M \(number(x1)) \(number(y1)) C \(number(x1 + boxWidth)) \(number(y1 + rowGap)), \(number(x2 + boxWidth)) \(number(y2 - rowGap)), \(number(x2)) \(number(y2))"
            nodes.append(Markup.element("path", Markup.attribute("d", path), Markup.attribute("fill", "none"), Markup.attribute("stroke", color),
                                        Markup.attribute("stroke-width", "1.4"), Markup.attribute("marker-end", "url(#arrow)"),
                                        Markup.element("title", Markup.text(linkage.linkageType))))
            nodes.append(Markup.element("text", Markup.attribute("x", number((x1 + x2) / 2 + 4)), Markup.attribute("y", number((y1 + y2) / 2)),
                                        Markup.attribute("fill", color), Markup.attribute("font-size", "10"), Markup.text(linkage.linkageType)))
        }
        for task in tasks {
            guard let at = position[task.zuoraTaskID] else { continue }
            nodes.append(Markup.element("g", Markup.cls("task"),
                Markup.element("rect", Markup.attribute("x", number(at.x)), Markup.attribute("y", number(at.y)),
                               Markup.attribute("width", number(boxWidth)), Markup.attribute("height", number(boxHeight)),
                               Markup.attribute("rx", "6"), Markup.attribute("fill", "#f6f8fa"), Markup.attribute("stroke", "#8c959f")),
                Markup.element("text", Markup.attribute("x", number(at.x + 8)), Markup.attribute("y", number(at.y + 19)),
                               Markup.attribute("font-size", "12"), Markup.attribute("font-weight", "600"), Markup.attribute("fill", "#1f2328"),
                               Markup.text(Self.clip(TaskLabel.title(task), to: 26))),
                Markup.element("text", Markup.attribute("x", number(at.x + 8)), Markup.attribute("y", number(at.y + 36)),
                               Markup.attribute("font-size", "10"), Markup.attribute("fill", "#57606a"),
                               Markup.text(Self.clip(TaskLabel.subtitle(task), to: 32))),
                Markup.element("title", Markup.text("\(TaskLabel.title(task)) (\(task.zuoraTaskID))"))))
        }
        return Markup.element("svg", nodes)
    }

    static func clip(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}
