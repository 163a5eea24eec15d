import Foundation
import GRDB
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// What the crash and hostile-input reviews found: each failed before its fix.
@Suite("Crash safety and data loss")
struct CrashSafetyTests {
    @Test func aListingThatReplacesEveryIdDeletesNothing() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        // Upstream now lists six other ids (another tenant's answer, a broken gateway...).
        let tenant = workspace.fixtures.appendingPathComponent("initech")
        let listURL = tenant.appendingPathComponent("workflows.json")
        let items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!.map { item -> JSONValue in
            var object = item.objectValue!
            let id = object["id"]!.intValue!
            object["id"] = .int(id + 1000)
            try? FileManager.default.copyItem(at: tenant.appendingPathComponent("exports/\(id).json"), to: tenant.appendingPathComponent("exports/\(id + 1000).json"))
            return .object(object)
        }
        try AtomicFile.write(JSONValue.array(items).canonicalData(), to: listURL)
        let second = try await workspace.sync(["initech"])
        #expect(second.status == .succeeded)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 12, "old workflows kept, new ones added")
        let cleanup = try StageResultFile.read(CleanupObsolete.Result.self, formatVersion: 1,
                                               in: workspace.data.stage(run: second.id, customer: "initech", index: 6, stageID: "cleanup-obsolete"))
        #expect(!cleanup.isApplied && cleanup.storedCount == 6)
        #expect(cleanup.skippedReason?.contains("shares 0 of the 6") == true, "\(cleanup.skippedReason ?? "")")
    }

    @Test func tasksFollowTheStoredExportWhicheverRunStoredIt() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-06-01T00:00:00.000Z") { _, export in
            var tasks = export["tasks"]!.arrayValue!
            var first = tasks[0].objectValue!
            first["name"] = .string("Renamed upstream")
            tasks[0] = .object(first)
            export["tasks"] = .array(tasks)
        }
        // A run killed after save-workflows committed, before extract-tasks: the new export is stored.
        clock.advance(seconds: 60)
        try await workspace.sync(["initech"], clock: clock) { $0.stages.removeLast(2) }
        func firstTaskName() throws -> String? {
            try workspace.store.sqliteWriter!.read { db in
                try String.fetchOne(db, sql: """
                    SELECT t.name FROM tasks t JOIN workflows w ON w.id = t.workflow_id WHERE w.zuora_id = 41 ORDER BY t.zuora_task_id LIMIT 1
                    """)
            }
        }
        #expect(try firstTaskName() == "Iterate 1", "tasks still from the old export")
        // A new run (not a resume) downloads nothing for 41 (its listing matches the store)...
        clock.advance(seconds: 60)
        let next = try await workspace.sync(["initech"], clock: clock)
        #expect(next.figures("initech")?.exportsDownloaded == 0)
        // ...and still extracts its tasks from the stored export.
        #expect(try firstTaskName() == "Renamed upstream")
        #expect(try workspace.store.workflowsWithStaleTasks(customerSlug: "initech").isEmpty)
    }

    @Test func snapshotsConvergeAfterAnInterruptedCleanupAndHandEditsAreUndone() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        // Killed after cleanup's delete, before its snapshot refresh: the row is gone, the file is not.
        try workspace.deleteUpstream(tenant: "initech") { $0 == 40 }
        try workspace.store.deleteWorkflows(customerSlug: "initech", zuoraIDs: [40])
        #expect(FileManager.default.fileExists(atPath: snapshots.workflowFile("initech", zuoraID: 40).path))
        // And someone edits a snapshot by hand.
        let edited = snapshots.workflowFile("initech", zuoraID: 41)
        let original = try Data(contentsOf: edited)
        try Data("{\"hand\": \"edited\"}\n".utf8).write(to: edited)
        try await workspace.sync(["initech"])
        #expect(!FileManager.default.fileExists(atPath: snapshots.workflowFile("initech", zuoraID: 40).path))
        let index = try CanonicalJSON.read([SnapshotIndexEntry].self, from: snapshots.indexFile("initech"))
        #expect(!index.contains { $0.id == 40 })
        #expect(try Data(contentsOf: edited) == original, "the hand-edited snapshot is restored")
    }

    @Test func resumingARunWhoseProcessIsAliveIsRefused() async throws {
        let workspace = try TestWorkspace()
        let first = try await workspace.sync(["hooli"])
        var manifest = first
        manifest.status = .running
        manifest.process = RunProcess(pid: 1, host: "worker-7")
        try CanonicalJSON.write(manifest, to: workspace.data.manifest(first.id))
        // The process working on a run holds its run lock (the kernel drops it when it dies, on any host).
        let held = try #require(try RunLock.acquire(runDirectory: workspace.data.run(first.id)))
        defer { held.release() }
        await #expect(throws: RunInProgressError.self) {
            try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: first.id, customers: workspace.customers(["hooli"]))
        }
        do {
            _ = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: first.id, customers: workspace.customers(["hooli"]))
        } catch {
            #expect("\(error)".contains("pid 1"))
        }
    }

    @Test func camelCaseExportsDiffWithoutNoise() {
        func export(updatedAt: String, subject: String) -> JSONValue {
            .object(["workflow": .object(["id": .int(7), "name": .string("W"), "updatedAt": .string(updatedAt), "createdAt": .string("2020-01-01"),
                                          "calloutTrigger": .bool(true)]),
                     "tasks": .array([.object(["id": .int(1), "name": .string("Mail"), "action_type": .string("Email"),
                                               "parameters": .object(["subject": .string(subject)])])]),
                     "linkages": .array([])])
        }
        let before = [Int64(7): WorkflowDiff.Version(name: "W", export: export(updatedAt: "2026-01-01", subject: "Hi"))]
        let touched = [Int64(7): WorkflowDiff.Version(name: "W", export: export(updatedAt: "2026-02-02", subject: "Hi"))]
        #expect(WorkflowDiff.compare(before: before, after: touched).isEmpty, "a changing updatedAt is not a user change")
        let edited = [Int64(7): WorkflowDiff.Version(name: "W", export: export(updatedAt: "2026-02-02", subject: "Hello"))]
        #expect(WorkflowDiff.compare(before: before, after: edited).first?.tasksChanged.first?.changes.first?.path == "parameters.subject")
    }

    @Test func invalidUTF8InNamesIsReportedNotSilentlyReplaced() throws {
        var bytes = Array("{\"data\": [{\"id\": 1, \"name\": \"caf".utf8)
        bytes += [0xE9] // Latin-1 é: not UTF-8
        bytes += Array("\"}]}".utf8)
        let parsed = try JSONValue.parseCountingInvalidUTF8(Data(bytes))
        #expect(parsed.invalidUTF8Strings == 1)
        #expect(parsed.value["data"]?.arrayValue?.first?["name"]?.stringValue == "caf\u{FFFD}")
    }

    @Test func aRunWhosePodIsGoneCanBeResumedFromAnotherHost() async throws {
        let workspace = try TestWorkspace()
        let first = try await workspace.sync(["hooli"])
        var manifest = first
        manifest.status = .running
        manifest.results = [CustomerResult(customer: "hooli", status: .running)]
        manifest.process = RunProcess(pid: 1, host: "pod-that-was-oom-killed")
        try CanonicalJSON.write(manifest, to: workspace.data.manifest(first.id))
        // Nobody holds its run lock: `runs` and `status` show it interrupted, whatever host it names.
        #expect(try workspace.data.loadManifest(first.id).observedStatus() == .interrupted)
        let resumed = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: first.id, customers: workspace.customers(["hooli"]))
        #expect(resumed.status == .succeeded)
    }

    @Test func resumingAnOlderRunNeverRollsBackWhatALaterRunSynced() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        // Monday: listing and exports committed, then the run failed before saving.
        let monday = try await workspace.runner(transport: FailingAfterTransport(base: FixtureTransport(mock: try workspace.mock(clock: clock)), limit: 4), clock: clock)
            .start(pipeline: try workspace.pipeline(), pipelinePath: "p", customers: workspace.customers(["initech"]))
        #expect(monday.result(for: "initech")?.status == .failed)
        // Tuesday: upstream changed, a new run synced it.
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-06-01T00:00:00.000Z") { item, _ in item["name"] = .string("Tuesday name") }
        clock.advance(seconds: 86_400)
        let tuesday = try await workspace.sync(["initech"], clock: clock)
        #expect(tuesday.status == .succeeded)
        let after = try workspace.databaseDump()
        // `resume` without an id does not pick Monday's run; naming it refuses that customer.
        #expect(try workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).runToResume(nil) == nil)
        let resumed = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock(clock: clock)), clock: clock)
            .resume(runID: monday.id, customers: workspace.customers(["initech"]))
        #expect(resumed.result(for: "initech")?.error?.contains("superseded") == true)
        #expect(resumed.result(for: "initech")?.isRetryable == false)
        #expect(try workspace.databaseDump() == after, "the store keeps Tuesday's data")
    }

    @Test func partialOutputsOfAnAttemptWithOtherInputsAreNotReused() async throws {
        let workspace = try TestWorkspace()
        let first = try await workspace.sync(["initech"])
        // An interrupted download-exports attempt, from before the customer's settings changed:
        // its partial exports carry another fingerprint.
        let directory = workspace.data.stage(run: first.id, customer: "initech", index: 3, stageID: "download-exports")
        try PathSafety.remove(directory.appendingPathComponent(StageFiles.commit))
        for (index, stage) in [(4, "save-workflows"), (5, "extract-tasks"), (6, "cleanup-obsolete")] {
            try PathSafety.remove(workspace.data.stage(run: first.id, customer: "initech", index: index, stageID: stage))
        }
        try CanonicalJSON.write(StageAttempt(fingerprint: "other-inputs", startedAt: Date(timeIntervalSince1970: 0)),
                                to: directory.appendingPathComponent(StageFiles.attempt))
        let planted = DownloadExports.exportFile(40, in: directory)
        try Data(#"{"workflow": {"name": "from another tenant"}, "tasks": [], "linkages": []}"#.utf8).write(to: planted)
        // 40 has no good stored export, so the resumed download must fetch it.
        try await workspace.store.sqliteWriter!.write { db in
            try db.execute(sql: "UPDATE workflows SET export = NULL, export_sha256 = NULL WHERE zuora_id = 40")
        }
        var manifest = try workspace.data.loadManifest(first.id)
        manifest.status = .failed
        manifest.results = [CustomerResult(customer: "initech", status: .failed)]
        try CanonicalJSON.write(manifest, to: workspace.data.manifest(first.id))
        _ = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: first.id, customers: workspace.customers(["initech"]))
        let stored = try #require(try workspace.store.exports(customerSlug: "initech", zuoraIDs: [40]).first)
        #expect(!stored.text.contains("another tenant"), "the stage started over instead of reusing the other attempt's file")
    }
}
