import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// The retention policy: which runs are kept and why, pruning with tombstones, and object collection.
@Suite("Retention and garbage collection")
struct RetentionTests {
    @Test func theDataDirectoryStaysBoundedAfterManyUnchangedRuns() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        for _ in 0..<12 {
            try await workspace.sync(["initech"], mock: mock, clock: clock) { pipeline in
                pipeline.retention.keepLast = 3
                pipeline.retention.keepDays = 0
            }
            clock.advance(seconds: 3600)
        }
        let kept = workspace.data.manifests()
        #expect(kept.count == 3, "\(kept.map(\.id))")
        let tombstones = try FileManager.default.contentsOfDirectory(atPath: workspace.data.runs.appendingPathComponent(".pruned").path)
        #expect(tombstones.count == 9)
        // A pruned run is named as pruned, not as missing.
        let pruned = try #require(tombstones.first.map { String($0.dropLast(5)) })
        do {
            _ = try workspace.data.loadManifest(pruned)
            Issue.record("a pruned run loaded")
        } catch let error as FileError {
            #expect(error.message.contains("was pruned") && error.isUsageError)
        }
        // diff between kept runs still works.
        let states = try StateComparison.states(customer: "initech", runA: nil, runB: nil, in: workspace.data)
        #expect(states.0.runID != states.1.runID)
    }

    @Test func eachCustomersLastSuccessAndFailureAndUnfinishedRunsAreKept() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let good = try await workspace.sync(["initech"], clock: clock)
        clock.advance(seconds: 86_400 * 10)
        // Later runs of another customer only.
        for _ in 0..<4 {
            try await workspace.sync(["hooli"], clock: clock)
            clock.advance(seconds: 60)
        }
        var settings = RetentionSettings()
        settings.keepLast = 2
        settings.keepDays = 1
        let decisions = RunRetention(dataDirectory: workspace.data, settings: settings, pipelineName: "sync-workflows", clock: clock).decisions()
        let reasons = Dictionary(uniqueKeysWithValues: decisions.map { ($0.manifest.id, $0.keptBecause) })
        #expect(reasons[good.id]! == "started within 1 days" || reasons[good.id]! == "a customer's last successful run")
        let pruned = try RunRetention(dataDirectory: workspace.data, settings: settings, pipelineName: "sync-workflows", clock: clock).prune()
        #expect(!pruned.contains { $0.id == good.id }, "initech's last successful run is kept")
        #expect(workspace.data.manifests().contains { $0.id == good.id })
    }

    @Test func garbageCollectionRemovesOnlyUnreferencedObjects() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        let first = try await workspace.sync(["initech"], mock: mock, clock: clock)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-06-01T00:00:00.000Z") { _, export in
            var workflow = export["workflow"]!.objectValue!
            workflow["description"] = .string("edited")
            export["workflow"] = .object(workflow)
        }
        clock.advance(seconds: 60)
        try await workspace.sync(["initech"], mock: mock, clock: clock)
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        let firstState = try CustomerState.read(from: workspace.data.customerState(run: first.id, customer: "initech"), objects: objects)
        let oldHash = try #require(firstState.workflows.first { $0.id == 41 }?.exportSHA256)
        let firstList = try #require(firstState.workflowsObject)
        #expect(objects.contains(oldHash))
        // While the first run is kept, its object stays.
        #expect(try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store).removed == 0)
        try PathSafety.remove(workspace.data.run(first.id))
        let report = try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store)
        // The old export and the first run's list of workflows.
        #expect(report.removed == 2 && report.bytesRemoved > 0)
        #expect(!objects.contains(oldHash) && !objects.contains(firstList))
        // Everything the store and the kept run name is still there, and diff-able.
        for hash in try workspace.store.allExportHashes() { #expect(objects.contains(hash)) }
    }

    @Test func unchangedRunsShareOneListOfWorkflowsAndAFormatOneStateStillReads() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        var states: [CustomerState] = []
        for _ in 0..<3 {
            let run = try await workspace.sync(["initech"], clock: clock)
            states.append(try CustomerState.read(from: workspace.data.customerState(run: run.id, customer: "initech"), objects: objects))
            clock.advance(seconds: 3600)
        }
        #expect(Set(states.compactMap(\.workflowsObject)).count == 1, "one list for three runs that ended alike")
        #expect(states.allSatisfy { $0.workflows == states[0].workflows && $0.workflows.count == 6 })
        let stateFile = workspace.data.customerState(run: states[2].runID, customer: "initech")
        #expect(try Data(contentsOf: stateFile).count < 400, "a state names its list; it does not repeat it")
        // The list is removed by hand: the run's state cannot be compared, and says why.
        let list = try #require(states[0].workflowsObject)
        let listBytes = try Data(contentsOf: objects.url(for: list))
        try FileManager.default.removeItem(at: objects.url(for: list))
        #expect(throws: FileError.self) { _ = try CustomerState.read(from: stateFile, objects: objects) }
        #expect(throws: FileError.self) { _ = try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store) }
        try listBytes.write(to: objects.url(for: list))

        // A state written by an earlier release (format 1, the list inline) reads, and diffs.
        let legacy: JSONValue = .object([
            "formatVersion": .int(1), "runID": .string(states[0].runID), "customer": .string("initech"),
            "finishedAt": .string(Timestamp.format(states[0].finishedAt)),
            "workflows": .array(states[0].workflows.dropFirst().map { entry in
                .object(["id": .int(entry.id), "name": .string(entry.name), "status": entry.status.map(JSONValue.string) ?? .null,
                         "version": entry.version.map(JSONValue.string) ?? .null, "exportSHA256": entry.exportSHA256.map(JSONValue.string) ?? .null])
            }),
        ])
        try AtomicFile.write(legacy.canonicalData(), to: workspace.data.customerState(run: states[0].runID, customer: "initech"))
        let old = try CustomerState.read(from: workspace.data.customerState(run: states[0].runID, customer: "initech"), objects: objects)
        #expect(old.workflowsObject == nil && old.workflows == Array(states[0].workflows.dropFirst()))
        let diff = try await CommandLineRunner.run(["diff", "--customer", "initech", states[0].runID, states[2].runID,
                                                    "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(diff.exitCode == 0, "\(diff.stderr)")
        #expect(diff.stdout.contains("\(states[0].workflows[0].id)"), "\(diff.stdout)")
    }

    @Test func runsPruneAndGCFromTheCommandLine() async throws {
        let workspace = try TestWorkspace()
        for _ in 0..<3 { try await workspace.sync(["hooli"]) }
        let pipeline = workspace.root.appendingPathComponent("pipeline.yaml")
        try (try String(contentsOfFile: TestWorkspace.pipelinePath, encoding: .utf8) + "\nretention:\n  keep_last: 1\n  keep_days: 0\n")
            .write(to: pipeline, atomically: true, encoding: .utf8)
        let common = ["--data-dir", workspace.data.root.path]
        let dry = try await CommandLineRunner.run(["runs", "prune", "--dry-run", "--pipeline", pipeline.path] + common, in: workspace.root)
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would be pruned (dry run, nothing changed)"))
        #expect(workspace.data.manifests().count == 3)
        let real = try await CommandLineRunner.run(["runs", "prune", "--pipeline", pipeline.path] + common, in: workspace.root)
        #expect(real.exitCode == 0, "\(real.stderr)")
        #expect(workspace.data.manifests().count == 1, "the newest, which is also hooli's last success")
        let gc = try await CommandLineRunner.run(["gc"] + common, in: workspace.root)
        #expect(gc.exitCode == 0 && gc.stdout.contains("removed"))
        let listing = try await CommandLineRunner.run(["runs", "--json"] + common, in: workspace.root)
        #expect(listing.exitCode == 0)
    }
}
