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

    /// The pool of shared run files: the same large bytes written twice are one file with two
    /// names (and the pool's), a damaged pool copy is never linked, small files are not pooled,
    /// and a pool name no run links any more is removed.
    @Test func largeRunFilesWrittenTwiceAreOneFileAndThePoolForgetsWhatNoRunLinks() throws {
        let workspace = try TestWorkspace()
        let shared = SharedRunFiles(dataDirectory: workspace.data.root)
        let runs = workspace.data.runs
        func inode(_ url: URL) throws -> (inode: UInt64, links: Int) {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return ((attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0, (attributes[.referenceCount] as? NSNumber)?.intValue ?? 0)
        }
        let page = Data(String(repeating: "{\"id\": 1, \"name\": \"page\"}\n", count: 400).utf8)
        let first = runs.appendingPathComponent("a/page-0001.json"), second = runs.appendingPathComponent("b/page-0001.json")
        try shared.write(page, to: first, durable: false)
        try shared.write(page, to: second, durable: false)
        #expect(try Data(contentsOf: second) == page)
        #expect(try inode(first).inode == inode(second).inode && inode(second).links == 3, "two runs and the pool")
        // Large results written in pieces share too (the listing of an unchanged run).
        let listing = ["workflows": (0..<300).map { "workflow \($0)" }]
        let results = [runs.appendingPathComponent("a/result.json"), runs.appendingPathComponent("b/result.json")]
        for url in results {
            try AtomicFile.writeIfChanged(to: url, memoryLimit: 1024, sharing: shared) { emit in
                try JSONValueEncoder.writeCanonical(listing, pretty: true, pieceSize: 512, emit: emit)
                try emit([0x0A])
            }
        }
        #expect(try Data(contentsOf: results[1]) == CanonicalJSON.encode(listing))
        #expect(try inode(results[0]).inode == inode(results[1]).inode)
        // A small file is written as it is.
        let small = runs.appendingPathComponent("b/commit.json")
        try shared.write(Data("{}\n".utf8), to: small, durable: false)
        #expect(try inode(small).links == 1)
        // A damaged pool copy is not linked into a new run: the new file is whole, and replaces it.
        let pooled = shared.poolPath(Digest.sha256Hex(page))
        try FileManager.default.removeItem(atPath: pooled)
        try Data(page.reversed()).write(to: URL(fileURLWithPath: pooled))
        let third = runs.appendingPathComponent("c/page-0001.json")
        try shared.write(page, to: third, durable: false)
        #expect(try Data(contentsOf: third) == page && Data(contentsOf: URL(fileURLWithPath: pooled)) == page)
        #expect(try inode(third).inode != inode(first).inode && inode(third).links == 2)
        // The pool keeps what a run links; once no run does, gc removes it.
        #expect(try shared.removeUnlinked().files == 0)
        for run in ["a", "b", "c"] { try PathSafety.remove(runs.appendingPathComponent(run)) }
        #expect(try shared.removeUnlinked(dryRun: true).files == 2)
        #expect(try SharedRunFiles.hashOfFile(pooled) == Digest.sha256Hex(page), "a dry run removes nothing")
        let report = try ObjectCollector(dataDirectory: workspace.data).collect(store: workspace.store)
        #expect(report.removed == 2 && report.bytesRemoved > Int64(page.count))
        #expect(!FileManager.default.fileExists(atPath: pooled))
    }

    /// An unchanged run of a real tenant writes its listing pages and its listing as links to the
    /// run before's, and `diff` of the two runs still reads them.
    @Test func anUnchangedRunLinksItsListingToTheRunBefore() async throws {
        let workspace = try TestWorkspace()
        try FixtureGenerator.writeBulk(to: workspace.fixtures, name: "bulk", workflows: 120)
        let clock = ManualClock()
        var runs: [RunManifest] = []
        let bulk = CustomerConfig(id: "bulk", name: "Bulk", baseURL: URL(string: "fixture://bulk")!, clientID: "bulk-client", secret: .inline("bulk-secret"))
        for _ in 0..<2 {
            let run = try await workspace.runner(transport: FixtureTransport(mock: workspace.mock(clock: clock)), clock: clock)
                .start(pipeline: try workspace.pipeline(), pipelinePath: "pipelines/sync-workflows.yaml", customers: [bulk], options: RunOptions())
            #expect(run.status == .succeeded)
            runs.append(run)
            clock.advance(seconds: 3600)
        }
        func stageFile(_ run: RunManifest, _ index: Int, _ stage: String, _ name: String) -> URL {
            workspace.data.stage(run: run.id, customer: "bulk", index: index, stageID: stage).appendingPathComponent(name)
        }
        for name in ["page-0001.json", "page-0003.json", StageFiles.result] {
            let files = runs.map { stageFile($0, 2, "fetch-workflow-pages", name) }
            let inodes = try files.map { try (FileManager.default.attributesOfItem(atPath: $0.path)[.systemFileNumber] as? NSNumber)?.uint64Value }
            #expect(inodes[0] != nil && inodes[0] == inodes[1], "\(name) is one file for both runs")
        }
        let listing = try StageResultFile.read(FetchWorkflowPages.Result.self, formatVersion: FetchWorkflowPages.resultFormatVersion,
                                               in: workspace.data.stage(run: runs[1].id, customer: "bulk", index: 2, stageID: "fetch-workflow-pages"))
        #expect(listing.workflows.count == 120 && listing.isComplete)
        #expect(try workspace.store.counts(customerSlug: "bulk").workflows == 120)
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
