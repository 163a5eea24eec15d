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
        let oldHash = try #require(try CanonicalJSON.readVersioned(CustomerState.self, from: workspace.data.customerState(run: first.id, customer: "initech"))
            .workflows.first { $0.id == 41 }?.exportSHA256)
        #expect(objects.contains(oldHash))
        // While the first run is kept, its object stays.
        #expect(try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store).removed == 0)
        try PathSafety.remove(workspace.data.run(first.id))
        let report = try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store)
        #expect(report.removed == 1 && report.bytesRemoved > 0)
        #expect(!objects.contains(oldHash))
        // Everything the store and the kept run name is still there, and diff-able.
        for hash in try workspace.store.allExportHashes() { #expect(objects.contains(hash)) }
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
