import Foundation
import GRDB
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// The `runs` and `workflow_changes` tables filled by each run, and the `task_details` and
/// `linkage_details` views, with README's example queries.
@Suite("Run history in the store")
struct RunHistoryTests {
    /// README's example queries, run as they are written there.
    static let lastResultPerCustomer = """
        SELECT customer_slug, status, finished_at, workflows, created, updated, deleted FROM runs r
        WHERE finished_at = (SELECT MAX(finished_at) FROM runs WHERE customer_slug = r.customer_slug) ORDER BY customer_slug
        """
    static let historyOfAWorkflow = """
        SELECT run_id, action, fields, export_sha256_before, export_sha256_after FROM workflow_changes
        WHERE customer_slug = 'initech' AND zuora_id = 41 ORDER BY changed_at
        """
    static let linkagesByName = """
        SELECT workflow_name, source_task_name, linkage_type, target_task_name FROM linkage_details
        WHERE customer_slug = 'initech' AND workflow_zuora_id = 41 ORDER BY linkage_id
        """

    @Test func eachRunRecordsItsCustomersAndTheWorkflowsItChanged() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let first = try await workspace.sync(["initech", "hooli"], clock: clock)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-11-03T00:00:00.000Z") { item, export in
            item["name"] = .string("Renamed")
            var workflow = export["workflow"]?.objectValue ?? [:]
            workflow["name"] = .string("Renamed")
            export["workflow"] = .object(workflow)
        }
        try workspace.deleteUpstream(tenant: "initech") { $0 == 40 }
        clock.advance(seconds: 3600)
        let second = try await workspace.sync(["initech", "hooli"], clock: clock)
        #expect(second.status == .succeeded)

        let store = try workspace.store
        let runs = try store.runHistory()
        #expect(runs.count == 4)
        let latest = try #require(runs.first { $0.runID == second.id && $0.customerSlug == "initech" })
        #expect(latest.status == "succeeded" && latest.updated == 1 && latest.deleted == 1 && latest.created == 0)
        #expect(latest.workflows == 5 && latest.requests > 0)
        #expect(try store.runHistory(customerSlug: "initech").map(\.runID) == [second.id, first.id])

        let changes = try store.changes(customerSlug: "initech", runID: second.id)
        let updated = try #require(changes.first { $0.zuoraID == 41 })
        #expect(updated.action == "updated" && updated.name == "Renamed")
        #expect(updated.fields.contains("\"export\"") && updated.fields.contains("\"name\""))
        #expect(updated.exportSHA256Before != nil && updated.exportSHA256After != nil)
        #expect(updated.exportSHA256Before != updated.exportSHA256After)
        let deleted = try #require(changes.first { $0.zuoraID == 40 })
        #expect(deleted.action == "deleted" && deleted.exportSHA256Before != nil && deleted.exportSHA256After == nil)
        #expect(try store.changes(customerSlug: "initech", runID: first.id).count == 6)

        try await store.sqliteWriter!.read { db in
            let last = try Row.fetchAll(db, sql: Self.lastResultPerCustomer)
            #expect(last.map { $0["customer_slug"] as String } == ["hooli", "initech"])
            #expect(last.last?["deleted"] == 1)
            let history = try Row.fetchAll(db, sql: Self.historyOfAWorkflow)
            #expect(history.map { $0["action"] as String } == ["created", "updated"])
            let links = try Row.fetchAll(db, sql: Self.linkagesByName)
            #expect(!links.isEmpty)
            #expect(links.contains { ($0["source_task_name"] as String?) != nil && ($0["target_task_name"] as String?) != nil })
            let tasks = try Row.fetchAll(db, sql: "SELECT customer_slug, workflow_name, name, action_type FROM task_details WHERE workflow_zuora_id = 41")
            #expect(!tasks.isEmpty && tasks.allSatisfy { $0["workflow_name"] == "Renamed" && $0["customer_slug"] == "initech" })
        }
    }

    @Test func aFailedCustomerIsARunRowWithItsErrorAndADryRunIsNone() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock(faults: "503:list@1x9")
        let failed = try await workspace.sync(["initech"], mock: mock)
        #expect(failed.status == .failed)
        let row = try #require(try workspace.store.runHistory(customerSlug: "initech").first)
        #expect(row.status == "failed" && row.failedStage == "fetch-workflow-pages" && row.error?.isEmpty == false)

        _ = try await workspace.sync(["initech"], options: RunOptions(dryRun: true))
        #expect(try workspace.store.runHistory().count == 1, "a dry run changes nothing in the store")
    }
}
