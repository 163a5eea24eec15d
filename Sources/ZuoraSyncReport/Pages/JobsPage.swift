import Foundation
import Plot
import ZuoraSyncCore

/// `jobs.html`: waiting, running and failed jobs with their errors, attempts and the command that
/// retries each failed one; the last finished ones below.
struct JobsPage {
    var jobs: [ReportJob]
    var unreadable: [String]

    func render(generatedAt: String) -> String {
        var body: [PageNode] = [Markup.element("h1", Markup.text("Jobs"))]
        for state in ["failed", "running", "waiting", "done"] {
            let selected = jobs.filter { $0.state == state }.prefix(state == "done" ? 50 : 500)
            body.append(Markup.element("h2", Markup.text("\(state) (\(selected.count))")))
            if selected.isEmpty {
                body.append(Markup.element("p", Markup.cls("muted"), Markup.text("none")))
                continue
            }
            body.append(Markup.table(id: "jobs-\(state)", headers: ["job", "customer", "attempts", "updated (UTC)", "error", "retry"], rows: selected.map { job in
                Markup.element("tr", Markup.cell(job.id), Markup.cell(job.customer), Markup.cell("\(job.attempts)/\(job.maxAttempts)", Markup.cls("num")),
                               Markup.cell(Timestamp.format(job.updatedAt)), Markup.cell(job.lastError ?? ""),
                               Markup.element("td", state == "failed" ? Markup.element("code", Markup.text("zuora-sync jobs retry \(job.id)")) : .empty))
            }))
        }
        if !unreadable.isEmpty {
            body.append(Markup.element("h2", Markup.text("Unreadable job files")))
            body.append(Markup.element("ul", unreadable.map { Markup.element("li", Markup.text($0)) }))
        }
        return Markup.page(title: "Jobs — zuora-sync report", root: "", generatedAt: generatedAt, body: body)
    }
}
