import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncStore

/// Draws a workflow's task graph (tasks as boxes, linkages as arrows) as inline SVG.
public protocol TaskGraphRenderer: Sendable {
    /// The graph as a page node, or nil when this renderer cannot draw it (the next one is tried).
    func render(tasks: [TaskOverview], linkages: [LinkageOverview]) -> PageNode?
    /// Shown under the graph: what laid it out.
    var name: String { get }
}

/// The label of a task in a graph: its name (or id) and action type.
enum TaskLabel {
    static func title(_ task: TaskOverview) -> String { task.name ?? "task \(task.zuoraTaskID)" }
    static func subtitle(_ task: TaskOverview) -> String { [task.actionType, task.object].compactMap { $0 }.joined(separator: " · ") }
}
