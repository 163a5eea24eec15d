import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// `index.html`: the customers (failing first) with their last result, the sync history as a
/// chart, and the changes of the run the report is about.
struct OverviewPage {
    var customers: [CustomerOverview]
    var history: [RunHistoryRow]
    var focus: RunManifest?
    var jobs: [ReportJob]

    func render(generatedAt: String) -> String {
        let failing = customers.filter { $0.lastResult != "succeeded" }
        let ordered = failing + customers.filter { $0.lastResult == "succeeded" }
        var body: [PageNode] = [
            Markup.element("h1", Markup.text("Zuora workflows: overview")),
            Markup.element("div", Markup.cls("cards"),
                           card("\(customers.count)", "customers"), card("\(customers.reduce(0) { $0 + $1.workflows })", "workflows"),
                           card("\(customers.reduce(0) { $0 + $1.tasks })", "tasks"), card("\(failing.count)", "customers not succeeded"),
                           card("\(jobs.filter { $0.state == "failed" }.count)", "failed jobs")),
            Markup.element("h2", Markup.text("Customers")),
            Markup.table(id: "customers", headers: ["customer", "name", "last result", "last sync (UTC)", "workflows", "tasks"], rows: ordered.map { customer in
                Markup.element("tr",
                               Markup.element("td", Markup.link("customers/\(customer.slug).html", customer.slug)),
                               Markup.cell(customer.name),
                               Markup.element("td", Markup.badge(customer.lastResult ?? "never")),
                               Markup.cell(customer.lastSyncedAt ?? "never"),
                               Markup.cell("\(customer.workflows)", Markup.cls("num")),
                               Markup.cell("\(customer.tasks)", Markup.cls("num")))
            }),
            Markup.element("h2", Markup.text("Sync history")),
            HistoryChart(history: history).render(),
        ]
        if let focus {
            let changes = RunChange.all(in: focus)
            body.append(Markup.element("h2", Markup.text("Run \(focus.id)")))
            body.append(Markup.element("p", Markup.badge(focus.observedStatus().rawValue),
                                       Markup.text(" \(focus.pipelineName), started \(Timestamp.format(focus.startedAt))"
                                                   + (focus.options.dryRun ? " — dry run" : "") + ", \(changes.count) change(s)")))
            if !changes.isEmpty {
                body.append(Markup.table(id: "changes", headers: ["customer", "action", "workflow", "name"], rows: changes.prefix(500).map { change in
                    Markup.element("tr", Markup.cell(change.customer), Markup.element("td", Markup.badge(change.action.rawValue)),
                                   Markup.element("td", Markup.link("workflows/\(change.customer)/\(change.workflowID).html", "\(change.workflowID)")),
                                   Markup.cell(change.name))
                }))
            }
        }
        return Markup.page(title: "zuora-sync report", root: "", generatedAt: generatedAt, body: body)
    }

    func card(_ value: String, _ label: String) -> PageNode {
        Markup.element("div", Markup.cls("card"), Markup.element("div", Markup.cls("value"), Markup.text(value)),
                       Markup.element("div", Markup.cls("label"), Markup.text(label)))
    }
}
