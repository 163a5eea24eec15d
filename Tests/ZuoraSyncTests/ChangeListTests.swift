import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncStages
import ZuoraSyncTesting

/// `zuora-sync changes`: every change of a run, which the summary's "… and N more" points at, and
/// the deletions a dry run would make.
@Suite("Change lists")
struct ChangeListTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.writeCustomers()
    }


    @Test func theSummaryPointsAtChangesWhichListsThemAll() async throws {
        let run = try await workspace.zuoraSync(["run", "--all", "--pipeline", TestWorkspace.pipelinePath])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let manifest = try #require(workspace.data.manifests().first)
        #expect(run.stdout.contains("… and 109 more (zuora-sync changes \(manifest.id))"))

        let all = try await workspace.zuoraSync(["changes", manifest.id])
        #expect(all.exitCode == 0, "\(all.stderr)")
        #expect(all.stdout.hasPrefix("Run \(manifest.id) changed 129 workflow(s):"))
        #expect(all.stdout.contains("initech   created  41"))
        #expect(all.stdout.split(separator: "\n").count == 1 + 1 + 129)

        let json = try await workspace.zuoraSync(["changes", "--customer", "initech", "--json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        let parsed = try JSONValue.parse(Data(json.stdout.utf8))
        #expect(parsed["run"]?.stringValue == manifest.id)
        let changes = try #require(parsed["changes"]?.arrayValue)
        #expect(changes.count == 6)
        #expect(changes.allSatisfy { $0["customer"]?.stringValue == "initech" && $0["action"]?.stringValue == "created" })
        #expect(changes.first?["workflowID"]?.intValue != nil)

        let unknown = try await workspace.zuoraSync(["changes", manifest.id, "--customer", "nope"])
        #expect(unknown.exitCode == 64)
        #expect(unknown.stderr.contains("has no customer 'nope'"))
    }

    @Test func aDryRunListsTheDeletionsItWouldMake() async throws {
        try await workspace.sync(["initech"])
        try workspace.deleteUpstream(tenant: "initech") { $0 == 40 }
        let dry = try await workspace.sync(["initech"], options: RunOptions(dryRun: true))
        let summary = RunSummaryFormatter.summary(dry, dataDirectory: workspace.data)
        #expect(summary.contains("Would change (dry run, 1):"))
        #expect(summary.contains("initech: - 40 "))
        #expect(dry.result(for: "initech")?.summary?.column("deleted") == "1")
        #expect(try workspace.store.storedWorkflows(customerSlug: "initech")[40] != nil, "a dry run deletes nothing")

        let json = try await workspace.zuoraSync(["changes", dry.id, "--json"])
        let parsed = try JSONValue.parse(Data(json.stdout.utf8))
        #expect(parsed["isDryRun"]?.boolValue == true)
        #expect(parsed["changes"]?.arrayValue?.map { $0["action"]?.stringValue } == ["deleted"])
        let text = try await workspace.zuoraSync(["changes", dry.id])
        #expect(text.stdout.hasPrefix("Run \(dry.id) would change 1 workflow(s):"))

        // Through the binary too: a dry run writes no metrics file (nothing outside its run directory).
        let cliDry = try await workspace.zuoraSync(["run", "--customer", "initech", "--pipeline", TestWorkspace.pipelinePath, "--dry-run"])
        #expect(cliDry.exitCode == 0, "\(cliDry.stderr)")
        #expect(cliDry.stdout.contains("Would change (dry run, 1):"))
        #expect(!FileManager.default.fileExists(atPath: workspace.data.metricsFile.path))
    }
}
