import Foundation
import Plot
import ZuoraSyncStore

/// `customers/<slug>.html`: the customer's workflows with status, version, updated time and task
/// count, searchable and filterable on the page by action type, priority and status.
struct CustomerPage {
    var customer: CustomerOverview
    var workflows: [WorkflowOverview]
    var history: [RunHistoryRow]

    func render(generatedAt: String) -> String {
        let actions = Set(workflows.flatMap(\.actionTypes)).sorted()
        let priorities = Set(workflows.flatMap(\.priorities)).sorted()
        let statuses = Set(workflows.compactMap(\.status)).sorted()
        func select(_ id: String, _ label: String, _ values: [String]) -> PageNode {
            Markup.element("label", Markup.text(label + " "),
                           Markup.element("select", [Markup.attribute("id", "filter-\(id)"),
                                                     Markup.element("option", Markup.attribute("value", ""), Markup.text("all"))]
                                          + values.map { Markup.element("option", Markup.attribute("value", $0), Markup.text($0)) }))
        }
        let body: [PageNode] = [
            Markup.element("h1", Markup.text("\(customer.name) "), Markup.element("span", Markup.cls("muted"), Markup.text("(\(customer.slug))"))),
            Markup.element("p", Markup.text("last result "), Markup.badge(customer.lastResult ?? "never"),
                           Markup.text(" · last sync \(customer.lastSyncedAt ?? "never") · \(customer.workflows) workflows · \(customer.tasks) tasks")),
            Markup.element("div", Markup.cls("filters"),
                           Markup.element("input", Markup.attribute("id", "search"), Markup.attribute("type", "search"),
                                          Markup.attribute("placeholder", "Search id, name, description…")),
                           select("action", "action type", actions), select("priority", "priority", priorities), select("status", "status", statuses),
                           Markup.element("span", Markup.cls("muted"), Markup.element("span", Markup.attribute("id", "shown"), Markup.text("\(workflows.count)")),
                                          Markup.text(" of \(workflows.count) shown"))),
            Markup.table(id: "workflows", headers: ["id", "name", "status", "version", "updated (UTC)", "tasks", "action types"], rows: workflows.map { workflow in
                Markup.element("tr",
                               Markup.attribute("data-search", "\(workflow.zuoraID) \(workflow.name) \(workflow.description ?? "")".lowercased()),
                               Markup.attribute("data-actions", workflow.actionTypes.joined(separator: "|")),
                               Markup.attribute("data-priorities", workflow.priorities.joined(separator: "|")),
                               Markup.attribute("data-status", workflow.status ?? ""),
                               Markup.cell("\(workflow.zuoraID)", Markup.cls("num")),
                               Markup.element("td", Markup.link("../workflows/\(customer.slug)/\(workflow.zuoraID).html", workflow.name)),
                               Markup.element("td", Markup.badge(workflow.status ?? "-")),
                               Markup.cell(workflow.version ?? "-"), Markup.cell(workflow.updatedOn ?? "-"),
                               Markup.cell("\(workflow.taskCount)", Markup.cls("num")),
                               Markup.cell(workflow.actionTypes.joined(separator: ", ")))
            }),
            Markup.element("h2", Markup.text("Runs")),
            Markup.table(headers: ["run", "status", "finished (UTC)", "duration", "created", "updated", "deleted", "error"], rows: history.prefix(50).map { row in
                Markup.element("tr", Markup.element("td", Markup.link("../runs.html#\(row.runID)", row.runID)), Markup.element("td", Markup.badge(row.status)),
                               Markup.cell(row.finishedAt), Markup.cell(String(format: "%.1f s", Double(row.durationMilliseconds) / 1000), Markup.cls("num")),
                               Markup.cell("\(row.created)", Markup.cls("num")), Markup.cell("\(row.updated)", Markup.cls("num")),
                               Markup.cell("\(row.deleted)", Markup.cls("num")), Markup.cell(row.error ?? ""))
            }),
        ]
        return Markup.page(title: "\(customer.name) — zuora-sync report", root: "../", generatedAt: generatedAt, body: body,
                           script: ReportStyle.filterScript)
    }
}
