import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncReport
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// The static HTML report: its pages and their structure, escaping of every value from Zuora, the
/// task graph with and without Graphviz, the write-report stage, and the pages in a real browser.
@Suite("HTML report")
struct ReportTests {
    static let hostileName = "<script>alert(1)</script>"
    static let hostileTask = "<img src=x onerror=alert(2)>"

    /// Syncs initech with one workflow renamed to a script tag, one task named as an image with an
    /// onerror handler, and a description with quotes; then syncs again so it has history.
    static func hostileWorkspace() async throws -> (TestWorkspace, ManualClock) {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech", "globex"], clock: clock)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-11-03T00:00:00.000Z") { item, export in
            item["name"] = .string(hostileName)
            item["description"] = .string("say \"hi\" & <b>bye</b>")
            var workflow = export["workflow"]?.objectValue ?? [:]
            workflow["name"] = .string(hostileName)
            export["workflow"] = .object(workflow)
            var tasks = export["tasks"]?.arrayValue ?? []
            if var first = tasks.first?.objectValue {
                first["name"] = .string(hostileTask)
                first["action_type"] = .string("Email\" onmouseover=\"alert(3)")
                tasks[0] = .object(first)
            }
            export["tasks"] = .array(tasks)
        }
        clock.advance(seconds: 3600)
        try await workspace.sync(["initech", "globex"], clock: clock)
        return (workspace, clock)
    }

    func writeReport(_ workspace: TestWorkspace, clock: ManualClock, renderers: [any TaskGraphRenderer]) throws -> URL {
        let output = workspace.root.appendingPathComponent("site-\(renderers.first?.name.count ?? 0)")
        let writer = ReportWriter(dataDirectory: workspace.data, output: output, clock: clock, graphRenderers: renderers)
        let summary = try writer.write(store: try workspace.store)
        #expect(summary.workflows == 129)
        #expect(summary.pages == 3 + 2 + 129)
        return output
    }

    @Test func everyValueFromZuoraIsEscaped() async throws {
        let (workspace, clock) = try await Self.hostileWorkspace()
        var renderers: [any TaskGraphRenderer] = [LayeredGraphRenderer()]
        if let dot = ExternalTools.dot { renderers = [GraphvizRenderer(dot: dot)] }
        let site = try writeReport(workspace, clock: clock, renderers: renderers)
        let workflow = try String(contentsOf: site.appendingPathComponent("workflows/initech/41.html"), encoding: .utf8)
        let customer = try String(contentsOf: site.appendingPathComponent("customers/initech.html"), encoding: .utf8)
        let overview = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        for page in [workflow, customer, overview] {
            func lines(_ needle: String) -> [String] { page.split(separator: "\n").map(String.init).filter { $0.contains(needle) } }
            #expect(lines("<script>alert").isEmpty, "a workflow name became a script")
            #expect(lines("<img src=x").isEmpty, "a task name became an element")
            // Inside a tag: a value that broke out of its attribute (in text, quotes are harmless).
            let breakout = page.range(of: "<[^>]*\" onmouseover=\"", options: .regularExpression).map { String(page[$0]) }
            #expect(breakout == nil, "a value broke out of an attribute")
        }
        #expect(workflow.contains("<h1 id=\"workflow-name\">&lt;script&gt;alert(1)&lt;/script&gt;</h1>"))
        #expect(workflow.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(customer.contains("data-search=\"41 &lt;script&gt;alert(1)&lt;/script&gt; say &quot;hi&quot; &amp; &lt;b&gt;bye&lt;/b&gt;\""))
        #expect(customer.contains("<option value=\"Email&quot; onmouseover=&quot;alert(3)\">"))
        #expect(overview.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the run's changes list the renamed workflow")
        // The change history shows the semantic diff of the rename.
        #expect(workflow.contains("id=\"history\""))
        #expect(workflow.contains("Diff in run"))
        // The export is beside the page, byte for byte the snapshot.
        let export = try Data(contentsOf: site.appendingPathComponent("workflows/initech/41.json"))
        #expect(export == (try Data(contentsOf: workspace.data.root.appendingPathComponent("snapshots/initech/workflows/41.json"))))
        // Nothing is loaded from elsewhere.
        for page in [workflow, customer, overview] {
            #expect(!page.contains("http://") || page.contains("http://www.w3.org/2000/svg"))
            #expect(page.range(of: "(src|href)=\"(https?:)?//", options: .regularExpression) == nil && !page.contains("<link "))
        }
    }

    @Test func theBuiltInLayoutDrawsEveryTaskAndLinkage() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let graph = try workspace.store.taskGraph(customerSlug: "initech", zuoraID: 40)
        let renderer = LayeredGraphRenderer()
        let layers = renderer.layers(tasks: graph.tasks, linkages: graph.linkages)
        #expect(layers.count == graph.tasks.count)
        for linkage in graph.linkages {
            guard let source = linkage.sourceTaskID, let target = linkage.targetTaskID else { continue }
            #expect(layers[source]! < layers[target]!, "an arrow points down: \(source) → \(target)")
        }
        let svg = try #require(renderer.render(tasks: graph.tasks, linkages: graph.linkages)).render()
        #expect(svg.components(separatedBy: "<rect ").count - 1 == graph.tasks.count)
        #expect(svg.contains("marker-end=\"url(#arrow)\""))
        #expect(svg.contains(">Start</text>"), "the workflow's start link comes from a Start node")
        // A cycle still gets a layer for every task.
        let cycle = [LinkageOverview(linkageType: "Success", sourceTaskID: 1, targetTaskID: 2),
                     LinkageOverview(linkageType: "Success", sourceTaskID: 2, targetTaskID: 1)]
        let tasks = [TaskOverview(zuoraTaskID: 1, name: "a"), TaskOverview(zuoraTaskID: 2, name: "b")]
        #expect(renderer.layers(tasks: tasks, linkages: cycle).count == 2)
    }

    @Test func aPipelineEndingWithWriteReportWritesTheSiteButNotInADryRun() async throws {
        let workspace = try TestWorkspace()
        let text = try String(contentsOfFile: TestWorkspace.pipelinePath, encoding: .utf8) + "  - id: write-report\n    kind: write-report\n    out: site\n"
        let file = workspace.root.appendingPathComponent("with-report.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        var definition = try PipelineLoader.load(path: file.path, registry: BuiltInStages.registry)
        definition.retry.baseDelayMilliseconds = 1
        let clock = ManualClock()
        let runner = workspace.runner(transport: FixtureTransport(mock: try workspace.mock(clock: clock)), clock: clock)
        let dry = try await runner.start(pipeline: definition, pipelinePath: file.path, customers: workspace.customers(["initech"]),
                                         options: RunOptions(dryRun: true))
        #expect(dry.status == .succeeded)
        #expect(!FileManager.default.fileExists(atPath: workspace.data.root.appendingPathComponent("site").path))
        let manifest = try await runner.start(pipeline: definition, pipelinePath: file.path, customers: workspace.customers(["initech"]))
        #expect(manifest.status == .succeeded)
        let index = workspace.data.root.appendingPathComponent("site/index.html")
        #expect(FileManager.default.fileExists(atPath: index.path))
        #expect(FileManager.default.fileExists(atPath: workspace.data.root.appendingPathComponent("site/workflows/initech/41.html").path))
        #expect(manifest.result(for: "initech")?.summary?.stageCounts["write-report"]?["workflows"] == 6)

        let bad = text.replacingOccurrences(of: "out: site", with: "out: ../outside")
        let error = #expect(throws: ConfigurationError.self) { try PipelineLoader.parse(text: bad, file: "p.yaml", registry: BuiltInStages.registry) }
        let line = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("out: ../outside") }.map { $0 + 1 }
        #expect(error?.description.hasPrefix("p.yaml:\(line ?? 0): stages[7].out: '../outside' must be a folder inside the data directory") == true,
                "\(String(describing: error))")
    }

    @Test func theReportCommandWritesTheSiteAndNeedsAStore() async throws {
        let workspace = try TestWorkspace()
        try workspace.writeCustomers(secrets: ["initech": "initech-demo-secret"])
        let arguments = ["--data-dir", workspace.data.root.path, "--fixtures", workspace.fixtures.path]
        let empty = try await CommandLineRunner.run(["report"] + arguments, in: workspace.root)
        #expect(empty.exitCode == 64)
        #expect(empty.stderr.contains("sync first"))
        #expect(try await CommandLineRunner.run(["run", "--all", "--pipeline", TestWorkspace.pipelinePath] + arguments, in: workspace.root).exitCode == 0)
        let out = workspace.root.appendingPathComponent("out")
        let report = try await CommandLineRunner.run(["report", "--out", out.path] + arguments, in: workspace.root)
        #expect(report.exitCode == 0, "\(report.stderr)")
        #expect(report.stdout.contains("Report written: \(out.path)/index.html (10 pages, 6 workflows"))
    }
}

/// The report as a person sees it: pages opened in headless Chromium, checked for their key
/// elements and console errors, with screenshots kept in `.build/report-screenshots/`.
@Suite("HTML report in a browser")
struct ReportBrowserTests {
    static let screenshots = TestWorkspace.repositoryRoot.appendingPathComponent(".build/report-screenshots", isDirectory: true)

    /// Loads a page: its DOM after scripts ran, and what the browser logged.
    static func open(_ chromium: URL, _ page: URL, profile: URL) async throws -> (dom: String, log: String) {
        let result = try await ExternalTools.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom", page.absoluteString,
        ])
        return (result.stdout, result.stderr)
    }

    static func screenshot(_ chromium: URL, _ page: URL, to name: String, height: Int, profile: URL) async throws -> URL {
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        let file = screenshots.appendingPathComponent(name)
        _ = try await ExternalTools.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
            "--window-size=1280,\(height)", "--virtual-time-budget=3000", "--screenshot=\(file.path)", page.absoluteString,
        ])
        return file
    }

    /// Console errors and uncaught exceptions in Chromium's log.
    static func consoleErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            (line.contains(":CONSOLE(") && (line.contains("ERROR") || line.contains("Uncaught"))) || line.contains("Uncaught ")
        }
    }

    @Test(.enabled(if: ExternalTools.chromium != nil, "chromium is not installed: the report is checked in a real browser (make deps installs it)"))
    func pagesLoadWithTheirElementsAndNoConsoleErrors() async throws {
        let chromium = try #require(ExternalTools.chromium)
        let (workspace, clock) = try await ReportTests.hostileWorkspace()
        let site = workspace.root.appendingPathComponent("site")
        try ReportWriter(dataDirectory: workspace.data, output: site, clock: clock, environment: ProcessInfo.processInfo.environment)
            .write(store: try workspace.store)
        let profile = workspace.root.appendingPathComponent("chromium-profile")

        let overview = try await Self.open(chromium, site.appendingPathComponent("index.html"), profile: profile)
        #expect(overview.dom.contains("id=\"customers\""))
        #expect(overview.dom.contains("customers/globex.html"))
        #expect(overview.dom.contains("aria-label=\"sync history: duration and changes per run\""))
        #expect(Self.consoleErrors(overview.log).isEmpty, "\(Self.consoleErrors(overview.log))")

        // The filter script ran: preset by the address to Email tasks, it hides the other workflows.
        let expected = try workspace.store.workflowOverviews(customerSlug: "globex").filter { $0.actionTypes.contains("Email") }.count
        var filtered = URLComponents(url: site.appendingPathComponent("customers/globex.html"), resolvingAgainstBaseURL: false)!
        filtered.fragment = "action=Email"
        let customer = try await Self.open(chromium, filtered.url!, profile: profile)
        #expect(customer.dom.contains("<span id=\"shown\">\(expected)</span>"), "the page shows \(expected) workflows with Email tasks")
        #expect(customer.dom.components(separatedBy: "style=\"display: none;\"").count - 1 == 123 - expected)
        #expect(Self.consoleErrors(customer.log).isEmpty, "\(Self.consoleErrors(customer.log))")

        let workflow = try await Self.open(chromium, site.appendingPathComponent("workflows/initech/41.html"), profile: profile)
        #expect(workflow.dom.contains("<h1 id=\"workflow-name\">&lt;script&gt;alert(1)&lt;/script&gt;</h1>"), "the name is text, not a script")
        #expect(workflow.dom.contains("id=\"graph\""))
        #expect(workflow.dom.contains("<svg"))
        #expect(workflow.dom.contains("id=\"tasks\""))
        #expect(!workflow.log.contains("alert("), "no script from Zuora ran")
        #expect(Self.consoleErrors(workflow.log).isEmpty, "\(Self.consoleErrors(workflow.log))")

        for (page, name, height) in [("index.html", "overview.png", 1000), ("customers/globex.html", "customer.png", 900),
                                     ("workflows/initech/40.html", "workflow.png", 1300)] {
            let file = try await Self.screenshot(chromium, site.appendingPathComponent(page), to: name, height: height, profile: profile)
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "a screenshot of \(page) was taken (\(file.path))")
        }
    }
}
