import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncStore

/// Graphviz `dot -Tsvg`, when it is installed (Debian's `graphviz`). Labels are quoted for DOT;
/// dot escapes them again in its SVG output.
public struct GraphvizRenderer: TaskGraphRenderer {
    public let dot: URL
    /// Where laid-out graphs are kept by the hash of their DOT text, so an unchanged workflow does
    /// not run `dot` again (nil: no cache).
    public var cache: URL?
    public var name: String { "Graphviz dot" }

    public init(dot: URL, cache: URL? = nil) {
        self.dot = dot
        self.cache = cache
    }

    /// The first `dot` on PATH, if any.
    public static func find(path: String?, cache: URL? = nil) -> GraphvizRenderer? {
        for folder in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("dot")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return GraphvizRenderer(dot: candidate, cache: cache) }
        }
        return nil
    }

    public func render(tasks: [TaskOverview], linkages: [LinkageOverview]) -> PageNode? {
        guard !tasks.isEmpty else { return nil }
        let text = source(tasks: tasks, linkages: linkages)
        let cached = cache?.appendingPathComponent(Digest.sha256Hex(Data(text.utf8)) + ".svg")
        if let cached, let svg = try? String(contentsOf: cached, encoding: .utf8) { return .raw(svg) }
        guard let output = try? run(text), let start = output.range(of: "<svg") else { return nil }
        let svg = String(output[start.lowerBound...])
        if let cached {
            try? FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? AtomicFile.write(Data(svg.utf8), to: cached, durable: false)
        }
        return .raw(svg)
    }

    /// The DOT text of the graph.
    func source(tasks: [TaskOverview], linkages: [LinkageOverview]) -> String {
        var lines = ["digraph workflow {", "  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, fontname=\"Helvetica\"];",
                     "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f6f8fa\", color=\"#8c959f\", fontname=\"Helvetica\", fontsize=11];",
                     "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#57606a\"];"]
        let known = Set(tasks.map(\.zuoraTaskID))
        if linkages.contains(where: { $0.sourceTaskID == nil || !known.contains($0.sourceTaskID!) }) {
            lines.append("  start [label=\"Start\", shape=circle, fillcolor=\"#dafbe1\", color=\"#1a7f37\"];")
        }
        for task in tasks {
            let label = quote(TaskLabel.title(task) + "\n" + TaskLabel.subtitle(task))
            lines.append("  t\(task.zuoraTaskID) [label=\(label)];")
        }
        for linkage in linkages {
            guard let target = linkage.targetTaskID, known.contains(target) else { continue }
            let source = linkage.sourceTaskID.flatMap { known.contains($0) ? "t\($0)" : nil } ?? "start"
            let color = LayeredGraphRenderer.color(linkage.linkageType)
            lines.append("  \(source) -> t\(target) [label=\(quote(linkage.linkageType)), color=\"\(color)\", fontcolor=\"\(color)\"];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A DOT string literal.
    func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private func run(_ source: String) throws -> String {
        let process = Process()
        process.executableURL = dot
        process.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Write on a thread of its own while this one reads, so a large graph cannot deadlock the pipes.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(source.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
        return String(decoding: data, as: UTF8.self)
    }
}
