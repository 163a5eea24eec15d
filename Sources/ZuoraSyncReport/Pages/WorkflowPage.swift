import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncStore

/// `workflows/<slug>/<id>.html`: the workflow's task graph, its tasks, its canonical export (to
/// view, and to download beside the page) and its change history with the semantic diff of each
/// change.
struct WorkflowPage {
    var customer: CustomerOverview
    var workflow: WorkflowOverview
    var tasks: [TaskOverview]
    var linkages: [LinkageOverview]
    var export: String?
    var changes: [WorkflowChangeRow]
    var objects: ObjectStore
    var renderers: [any TaskGraphRenderer]

    func render(generatedAt: String) -> String {
        var graph: PageNode = Markup.element("p", Markup.cls("muted"), Markup.text("No tasks stored for this workflow."))
        for renderer in renderers {
            if let drawn = renderer.render(tasks: tasks, linkages: linkages) {
                graph = Markup.element("div", Markup.cls("graph"), Markup.attribute("id", "graph"), Markup.attribute("data-layout", renderer.name), drawn)
                break
            }
        }
        let names = Dictionary(tasks.map { ($0.zuoraTaskID, $0.name ?? "task \($0.zuoraTaskID)") }, uniquingKeysWith: { first, _ in first })
        var body: [PageNode] = [
            Markup.element("p", Markup.link("../../customers/\(customer.slug).html", "← \(customer.name)")),
            Markup.element("h1", Markup.attribute("id", "workflow-name"), Markup.text(workflow.name)),
            Markup.element("p", Markup.badge(workflow.status ?? "-"),
                           Markup.text(" id \(workflow.zuoraID) · version \(workflow.version ?? "-") · \(workflow.type ?? "-") · updated \(workflow.updatedOn ?? "-") · \(tasks.count) tasks")),
            workflow.description.map { Markup.element("p", Markup.cls("muted"), Markup.text($0)) } ?? .empty,
            Markup.element("h2", Markup.text("Task graph")),
            graph,
            Markup.element("h2", Markup.text("Tasks")),
            Markup.table(id: "tasks", headers: ["id", "name", "action type", "object", "priority", "parent"], rows: tasks.map { task in
                Markup.element("tr", Markup.cell("\(task.zuoraTaskID)", Markup.cls("num")), Markup.cell(task.name ?? ""), Markup.cell(task.actionType ?? ""),
                               Markup.cell(task.object ?? ""), Markup.cell(task.priority ?? ""),
                               Markup.cell(task.parentTaskID.map { names[$0] ?? "\($0)" } ?? ""))
            }),
            Markup.element("h2", Markup.text("Linkages")),
            Markup.table(id: "linkages", headers: ["from", "type", "to"], rows: linkages.map { linkage in
                Markup.element("tr", Markup.cell(linkage.sourceTaskID.map { names[$0] ?? "\($0)" } ?? "start"), Markup.cell(linkage.linkageType),
                               Markup.cell(linkage.targetTaskID.map { names[$0] ?? "\($0)" } ?? "-"))
            }),
            Markup.element("h2", Markup.text("Canonical export")),
        ]
        if let export {
            body.append(Markup.element("p", Markup.link("\(workflow.zuoraID).json", "Download \(workflow.zuoraID).json", Markup.attribute("download", "")),
                                       Markup.text(" · sha256 \(workflow.exportSHA256 ?? "-")")))
            body.append(Markup.element("details", Markup.element("summary", Markup.text("Show the export (\(export.utf8.count) bytes)")),
                                       Markup.element("pre", Markup.attribute("id", "export"), Markup.text(export))))
        } else {
            body.append(Markup.element("p", Markup.cls("muted"), Markup.text("No good export stored yet.")))
        }
        body.append(Markup.element("h2", Markup.text("Change history")))
        if changes.isEmpty {
            body.append(Markup.element("p", Markup.cls("muted"), Markup.text("No recorded changes.")))
        } else {
            body.append(Markup.table(id: "history", headers: ["run", "when (UTC)", "action", "fields", "export before → after"], rows: changes.reversed().map { change in
                Markup.element("tr", Markup.element("td", Markup.link("../../runs.html#\(change.runID)", change.runID)), Markup.cell(change.changedAt),
                               Markup.element("td", Markup.badge(change.action)), Markup.cell(fields(change.fields)),
                               Markup.cell("\(short(change.exportSHA256Before)) → \(short(change.exportSHA256After))"))
            }))
            for change in changes.reversed() {
                if let diff = semanticDiff(change) {
                    body.append(Markup.element("details", Markup.element("summary", Markup.text("Diff in run \(change.runID)")),
                                               Markup.element("pre", Markup.text(diff))))
                }
            }
        }
        return Markup.page(title: "\(workflow.name) — \(customer.name) — zuora-sync report", root: "../../", generatedAt: generatedAt, body: body)
    }

    func short(_ sha: String?) -> String { sha.map { String($0.prefix(12)) } ?? "none" }

    func fields(_ json: String) -> String {
        ((try? JSONValue.parse(Data(json.utf8)))?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
    }

    /// The semantic diff between the exports before and after a change, when both are in `objects/`.
    func semanticDiff(_ change: WorkflowChangeRow) -> String? {
        guard change.action == "updated", let before = change.exportSHA256Before, let after = change.exportSHA256After, before != after,
              let old = try? objects.get(before), let new = try? objects.get(after) else { return nil }
        let result = WorkflowDiff.compare(before: [change.zuoraID: .init(name: change.name, export: old)],
                                          after: [change.zuoraID: .init(name: change.name, export: new)])
        return result.isEmpty ? nil : WorkflowDiff.render(result, title: "\(change.name) (\(change.zuoraID))")
    }
}
