import Foundation
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

@Suite("Resume and golden runs")
struct ResumeTests {
    /// A run interrupted by the network going away, resumed, ends exactly like an uninterrupted run.
    @Test(arguments: [5, 40, 90])
    func resumedRunEndsIdenticalToACleanRun(failAfter calls: Int) async throws {
        let clean = try TestWorkspace()
        try await clean.sync(["globex", "initech"])

        let interrupted = try TestWorkspace()
        let clock = ManualClock()
        let mock = try interrupted.mock(clock: clock)
        let failing = FailingAfterTransport(base: FixtureTransport(mock: mock), limit: calls)
        let first = try await interrupted.runner(transport: failing, clock: clock)
            .start(pipeline: try interrupted.pipeline { $0.customerConcurrency = 1 }, pipelinePath: "p", customers: interrupted.customers(["globex", "initech"]))
        #expect(first.status == .failed)
        let failed = first.results.filter { $0.status == .failed }
        #expect(!failed.isEmpty)
        #expect(failed.allSatisfy { $0.isRetryable == true })

        let exportsBefore = mock.stats.count("globex", .export)
        let resumed = try await interrupted.runner(transport: FixtureTransport(mock: mock), clock: clock)
            .resume(runID: nil, customers: interrupted.customers(["globex", "initech"]))
        #expect(resumed.id == first.id)
        #expect(resumed.status == .succeeded)
        #expect(resumed.passes == 2)
        // Exports already downloaded before the interruption are not downloaded again.
        #expect(mock.stats.count("globex", .export) - exportsBefore <= 123 - max(0, exportsBefore - 2))

        #expect(try interrupted.databaseDump() == clean.databaseDump())
        let cleanSnapshots = clean.files(under: clean.data.root.appendingPathComponent("snapshots"))
        let resumedSnapshots = interrupted.files(under: interrupted.data.root.appendingPathComponent("snapshots"))
        #expect(cleanSnapshots.count == resumedSnapshots.count)
        #expect(cleanSnapshots == resumedSnapshots)
    }

    @Test func committedStagesAreNotRedoneOnResume() async throws {
        let workspace = try TestWorkspace()
        // The 10th export request fails hard (5 x 503 = retries used up).
        let mock = try workspace.mock(faults: "503:export@10x5")
        let first = try await workspace.runner(transport: FixtureTransport(mock: mock))
            .start(pipeline: try workspace.pipeline { $0.client.concurrency = 1 }, pipelinePath: "p", customers: workspace.customers(["globex"]))
        let result = try #require(first.result(for: "globex"))
        #expect(result.failedStage == "download-exports")
        #expect(result.isRetryable == true)
        let downloaded = workspace.files(under: workspace.data.stage(run: first.id, customer: "globex", index: 3, stageID: "download-exports").appendingPathComponent("exports")).count
        #expect(downloaded == 8, "9 requests before the failing one; one of them is the invalid-JSON export")

        let before = mock.stats
        let resumed = try await workspace.runner(transport: FixtureTransport(mock: mock)).resume(runID: first.id, customers: workspace.customers(["globex"]))
        #expect(resumed.status == .succeeded)
        #expect(mock.stats.count("globex", .token) == before.count("globex", .token), "token reused from the cache")
        #expect(mock.stats.count("globex", .list) == before.count("globex", .list), "listing stage was committed, not redone")
        #expect(mock.stats.count("globex", .export) - before.count("globex", .export) == 123 - 8, "only the exports not yet on disk")
    }

    @Test func resumeWithoutUnfinishedRunSaysSo() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["hooli"])
        await #expect(throws: FileError.self) {
            try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: nil, customers: workspace.customers())
        }
    }

    /// A demo run with pinned clock and run id, against recorded content: the data directory's
    /// listing (paths and sizes), the store's canonical dump, the run manifest and the summary.
    /// Re-record on purpose with ZUORA_SYNC_RECORD_GOLDEN=1: the test then fails, asking for a
    /// review of the diff.
    @Test func demoRunMatchesTheGoldenFiles() async throws {
        let workspace = try TestWorkspace()
        let manifest = try await workspace.sync(runID: "golden-run")
        var listing: [String] = []
        for (path, data) in workspace.files(under: workspace.data.root).sorted(by: { $0.key < $1.key }) {
            if path.hasPrefix("auth/") || path.hasPrefix("locks/") || path.hasPrefix("store.sqlite") { continue }
            if path.hasSuffix("events.jsonl") {
                // Progress events depend on timing (exports start while pages are still listed):
                // the size of the rest is what is fixed.
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.contains(#""event":"progress""#) }
                listing.append("\(path) \(lines.map { $0.utf8.count + 1 }.reduce(0, +)) without progress events")
                continue
            }
            listing.append("\(path) \(data.count)")
        }
        let summary = RunSummaryFormatter.summary(manifest, dataDirectory: DataDirectory(path: "/data"))
        let actual: [String: String] = [
            "files.txt": listing.joined(separator: "\n") + "\n",
            "store.txt": try workspace.databaseDump() + "\n",
            "run.json": String(decoding: try Data(contentsOf: workspace.data.manifest("golden-run")), as: UTF8.self),
            "summary.txt": summary,
        ]
        let directory = TestWorkspace.repositoryRoot.appendingPathComponent("Tests/ZuoraSyncTests/Golden/demo-run")
        if ProcessInfo.processInfo.environment["ZUORA_SYNC_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, text) in actual { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
            Issue.record("golden files re-recorded in \(directory.path): review `git diff Tests/ZuoraSyncTests/Golden`, then run again without ZUORA_SYNC_RECORD_GOLDEN")
            return
        }
        for (name, text) in actual.sorted(by: { $0.key < $1.key }) {
            let expected = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let differing = zip(text.split(separator: "\n"), expected.split(separator: "\n")).filter { $0 != $1 }.prefix(3)
            #expect(text == expected, "\(name) differs from the golden file; first differences: \(Array(differing))")
        }
    }

    @Test func demoFixturesAreReproducibleByteForByte() throws {
        let workspace = try TestWorkspace()
        let generated = workspace.files(under: workspace.fixtures)
        let committed = workspace.files(under: TestWorkspace.repositoryRoot.appendingPathComponent("fixtures/demo"))
        #expect(generated.count == committed.count)
        #expect(generated == committed, "run `make fixtures` and commit the result")
    }
}
