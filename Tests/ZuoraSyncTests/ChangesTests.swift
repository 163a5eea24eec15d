import Foundation
import GRDB
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

@Suite("What changed: diff, trash, rebuild")
struct ChangesTests {
    func setParameter(_ workspace: TestWorkspace, workflow: Int64, key: String, value: String, updatedAt: String) throws {
        try workspace.editUpstream(tenant: "initech", workflowID: workflow, updatedAt: updatedAt) { _, export in
            var tasks = export["tasks"]!.arrayValue!
            var task = tasks[0].objectValue!
            var parameters = task["parameters"]!.objectValue!
            parameters[key] = .string(value)
            task["parameters"] = .object(parameters)
            tasks[0] = .object(task)
            export["tasks"] = .array(tasks)
        }
    }

    @Test func diffNamesTheChangedTaskFieldAndRename() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        try await workspace.sync(["initech"], mock: mock)
        try setParameter(workspace, workflow: 41, key: "subject", value: "Your invoice (updated)", updatedAt: "2026-11-05T00:00:00.000Z")
        try workspace.editUpstream(tenant: "initech", workflowID: 46, updatedAt: "2026-11-05T00:00:00.000Z") { item, _ in
            item["status"] = .string("Inactive")
        }
        try workspace.editUpstream(tenant: "initech", workflowID: 43, updatedAt: "2026-11-05T00:00:00.000Z") { item, export in
            item["name"] = .string("Zahlungserinnerung Stufe 3")
            var workflow = export["workflow"]!.objectValue!
            workflow["name"] = .string("Zahlungserinnerung Stufe 3")
            workflow["callout_trigger"] = .bool(!(workflow["callout_trigger"]?.boolValue ?? false))
            export["workflow"] = .object(workflow)
        }
        let second = try await workspace.sync(["initech"], mock: mock)
        #expect(second.figures("initech")?.updated == 3)

        let (older, newer) = try StateComparison.states(customer: "initech", runA: nil, runB: nil, in: workspace.data)
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        let changes = WorkflowDiff.compare(before: try StateComparison.side(older, objects: objects), after: try StateComparison.side(newer, objects: objects))
        #expect(changes.map(\.id) == [41, 43, 46])
        #expect(changes[2].changes == [FieldChange(path: "status", before: .string("Active"), after: .string("Inactive"))])
        let subject = try #require(changes[0].tasksChanged.first?.changes.first)
        #expect(subject.path == "parameters.subject")
        #expect(subject.after == .string("Your invoice (updated)"))
        #expect(changes[1].renamedFrom == "Zahlungserinnerung Stufe 2")
        #expect(changes[1].changes.map(\.path) == ["callout_trigger"])
        #expect(changes[1].changes.first?.before != changes[1].changes.first?.after)

        let cli = try await CommandLineRunner.run(["diff", "--customer", "initech", "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(cli.exitCode == 0, "\(cli.stderr)")
        #expect(cli.stdout.contains("~ 41"))
        #expect(cli.stdout.contains("parameters.subject"))
        #expect(cli.stdout.contains("renamed from \"Zahlungserinnerung Stufe 2\""))
        // The same through two snapshot directories.
        let copy = workspace.root.appendingPathComponent("old-snapshots")
        try FileManager.default.copyItem(at: workspace.data.root.appendingPathComponent("snapshots/initech"), to: copy)
        let same = try await CommandLineRunner.run(["diff", copy.path, workspace.data.root.appendingPathComponent("snapshots/initech").path], in: workspace.root)
        #expect(same.stdout.contains("no changes"))
    }

    @Test func layoutOnlyChangesAreNotReported() async throws {
        let export = try JSONValue.parse(Data(contentsOf: TestWorkspace.repositoryRoot.appendingPathComponent("fixtures/demo/initech/exports/40.json")))
        var moved = export.objectValue!
        var tasks = moved["tasks"]!.arrayValue!
        var task = tasks[0].objectValue!
        task["css"] = .object(["left": .string("999px"), "top": .string("1px")])
        tasks[0] = .object(task)
        moved["tasks"] = .array(tasks)
        var workflow = moved["workflow"]!.objectValue!
        workflow["id"] = .int(999_999)
        moved["workflow"] = .object(workflow)
        let changes = WorkflowDiff.compare(before: [40: .init(name: "w", status: "Active", export: export)],
                                           after: [40: .init(name: "w", status: "Active", export: .object(moved))])
        #expect(changes.isEmpty)
    }

    @Test func restoreBringsDeletedWorkflowsBackIdentical() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        try await workspace.sync(["initech"], mock: mock)
        let before = try workspace.databaseDump()
        let snapshotBefore = workspace.files(under: workspace.data.root.appendingPathComponent("snapshots/initech"))
        try workspace.deleteUpstream(tenant: "initech") { $0 == 46 }
        let deleting = try await workspace.sync(["initech"], mock: mock)
        #expect(try workspace.databaseDump() != before)
        let trash = Trash(directory: workspace.data)
        #expect(trash.list().map(\.id) == [46])

        let list = try await CommandLineRunner.run(["trash", "list", "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(list.stdout.contains(deleting.id) && list.stdout.contains("46"))
        let restore = try await CommandLineRunner.run(["trash", "restore", deleting.id, "--customer", "initech", "--workflow", "46",
                                                 "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        #expect(try workspace.databaseDump() == before)
        #expect(workspace.files(under: workspace.data.root.appendingPathComponent("snapshots/initech")) == snapshotBefore)
        #expect(trash.list().isEmpty)
    }

    @Test func purgeRemovesOldTrash() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        try await workspace.sync(["initech"], mock: mock)
        try workspace.deleteUpstream(tenant: "initech") { $0 == 46 }
        try await workspace.sync(["initech"], mock: mock)
        let trash = Trash(directory: workspace.data)
        #expect(try trash.purge(olderThan: Date(timeIntervalSince1970: 0)) == 0)
        #expect(try trash.purge(olderThan: Date().addingTimeInterval(365 * 86_400 * 10)) == 1)
        #expect(trash.list().isEmpty)
    }

    @Test func rebuildTasksRestoresTasksFromStoredExportsOffline() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let before = try workspace.databaseDump()
        try await workspace.store.sqliteWriter!.write { db in
            try db.execute(sql: "DELETE FROM tasks")
            try db.execute(sql: "DELETE FROM linkages")
        }
        #expect(try workspace.databaseDump() != before)
        let result = try await CommandLineRunner.run(["rebuild-tasks", "--customer", "initech", "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Rebuilt 6 workflow(s), 39 task(s)"))
        #expect(try workspace.databaseDump() == before)
    }
}
