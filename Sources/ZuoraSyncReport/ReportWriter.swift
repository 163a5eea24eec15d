import Foundation
import Plot
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Writes the static HTML report: `index.html` (overview), `jobs.html`, `runs.html`,
/// `customers/<slug>.html`, `workflows/<slug>/<id>.html` with the canonical export beside it as
/// `<id>.json`. Self-contained: styles and scripts inline, graphs as inline SVG, nothing from the
/// network. Every value from Zuora is escaped. Files are written atomically and only when changed.
public struct ReportWriter: Sendable {
    public var dataDirectory: DataDirectory
    /// Where the site goes (default `report/` in the data directory).
    public var output: URL
    public var clock: any WallClock
    /// Tried in order for each workflow's graph; the built-in layout always draws one.
    public var graphRenderers: [any TaskGraphRenderer]
    /// Runs listed on the runs page and in the history chart.
    public var runLimit = 60

    public init(dataDirectory: DataDirectory, output: URL? = nil, clock: any WallClock = SystemClock(),
                graphRenderers: [any TaskGraphRenderer]? = nil, environment: [String: String] = [:]) {
        self.dataDirectory = dataDirectory
        self.output = output ?? dataDirectory.report
        self.clock = clock
        // Laid-out graphs are cached beside the site (`.graphs/`), so dot runs only for new graphs.
        let cache = (output ?? dataDirectory.report).appendingPathComponent(".graphs", isDirectory: true)
        self.graphRenderers = graphRenderers
            ?? ([GraphvizRenderer.find(path: environment["PATH"], cache: cache)].compactMap { $0 } + [LayeredGraphRenderer()])
    }

    /// What was written.
    public struct Summary: Sendable, Codable, Equatable {
        public var pages: Int
        public var workflows: Int
        public var index: String
    }

    /// Writes the site.
    /// - Parameters:
    ///   - runID: the run the report is about (its changes are shown on the overview); default the newest.
    ///   - onlyCustomers: write the customer and workflow pages of these customers only (the
    ///     write-report stage refreshes its own customer); the overview, jobs and runs always.
    @discardableResult
    public func write(store: Store, runID: String? = nil, onlyCustomers: Set<String>? = nil) throws -> Summary {
        let generatedAt = Timestamp.format(clock.now())
        let manifests = Array(dataDirectory.manifests().prefix(runLimit))
        let focus = runID.flatMap { id in manifests.first { $0.id == id } ?? (try? dataDirectory.loadManifest(id)) } ?? manifests.first
        let customers = try store.customerOverviews()
        let history = try store.runHistory(limit: 2000)
        let jobs = ReportJob.all(in: dataDirectory)
        var pages = 0

        func emit(_ relativePath: String, _ html: String) throws {
            let url = output.appendingPathComponent(relativePath)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try AtomicFile.writeIfChanged(Data(html.utf8), to: url)
            pages += 1
        }

        try emit("index.html", OverviewPage(customers: customers, history: history, focus: focus, jobs: jobs.jobs).render(generatedAt: generatedAt))
        try emit("jobs.html", JobsPage(jobs: jobs.jobs, unreadable: jobs.unreadable).render(generatedAt: generatedAt))
        try emit("runs.html", RunsPage(manifests: manifests, dataDirectory: dataDirectory).render(generatedAt: generatedAt))
        var workflowCount = 0
        let objects = ObjectStore(dataDirectory: dataDirectory.root)
        for customer in customers where onlyCustomers?.contains(customer.slug) ?? true {
            let workflows = try store.workflowOverviews(customerSlug: customer.slug)
            let customerHistory = history.filter { $0.customerSlug == customer.slug }
            try emit("customers/\(customer.slug).html",
                     CustomerPage(customer: customer, workflows: workflows, history: customerHistory).render(generatedAt: generatedAt))
            let exports = Dictionary(uniqueKeysWithValues: try store.exports(customerSlug: customer.slug).map { ($0.zuoraID, $0) })
            let changes = Dictionary(grouping: try store.changes(customerSlug: customer.slug), by: \.zuoraID)
            for workflow in workflows {
                let graph = try store.taskGraph(customerSlug: customer.slug, zuoraID: workflow.zuoraID)
                let export = exports[workflow.zuoraID]
                let folder = "workflows/\(customer.slug)"
                if let export { try emitRaw("\(folder)/\(workflow.zuoraID).json", export.text) }
                let page = WorkflowPage(customer: customer, workflow: workflow, tasks: graph.tasks, linkages: graph.linkages, export: export?.text,
                                        changes: changes[workflow.zuoraID] ?? [], objects: objects, renderers: graphRenderers)
                try emit("\(folder)/\(workflow.zuoraID).html", page.render(generatedAt: generatedAt))
                workflowCount += 1
            }
        }
        return Summary(pages: pages, workflows: workflowCount, index: output.appendingPathComponent("index.html").path)
    }

    private func emitRaw(_ relativePath: String, _ text: String) throws {
        let url = output.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.writeIfChanged(Data(text.utf8), to: url)
    }
}
