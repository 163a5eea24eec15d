import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
import ZuoraSyncHTTP
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages

/// Forwards to another transport and records the order of list pages and exports. A list page
/// after the first waits (yielding, a bounded number of times, no wall clock) for an export to be
/// requested, so exports that start while the listing runs are seen before its last page; a page
/// listed in `invalidPages` answers invalid JSON.
final class ListingProbeTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: `log` is only touched under `lock`.
    private let lock = NSLock()
    private var log: [String] = []
    let base: any HTTPTransport
    let invalidPages: Set<Int>

    init(base: any HTTPTransport, invalidPages: Set<Int> = []) {
        self.base = base
        self.invalidPages = invalidPages
    }

    var entries: [String] { lock.withLock { log } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.url.path
        if path.hasSuffix("/workflows"), let page = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?
            .queryItems?.first(where: { $0.name == "page" })?.value.flatMap(Int.init) {
            if page > 1 {
                for _ in 0..<10_000 where !entries.contains(where: { $0.hasPrefix("export") }) { await Task.yield() }
            }
            var response = try await base.send(request)
            if invalidPages.contains(page) { response.body = Data("{\"data\": [".utf8) }
            lock.withLock { log.append("list \(page)") }
            return response
        }
        if path.hasSuffix("/export") { lock.withLock { log.append("export \(path)") } }
        return try await base.send(request)
    }
}

@Suite("Streaming stages: exports start while the listing runs")
struct StreamingStagesTests {
    static func smallPages(_ pipeline: inout PipelineDefinition) {
        let index = pipeline.stages.firstIndex { $0.kind == FetchWorkflowPages.name }!
        pipeline.stages[index].settings["page_size"] = .int(1)
    }

    @Test func exportsStartBeforeTheLastPageIsListed() async throws {
        let workspace = try TestWorkspace()
        let probe = ListingProbeTransport(base: FixtureTransport(mock: try workspace.mock()))
        let manifest = try await workspace.runner(transport: probe)
            .start(pipeline: try workspace.pipeline(Self.smallPages), pipelinePath: "p.yaml", customers: workspace.customers(["initech"]))
        #expect(manifest.status == .succeeded)
        let log = probe.entries
        let lastPage = try #require(log.lastIndex { $0.hasPrefix("list") })
        let firstExport = try #require(log.firstIndex { $0.hasPrefix("export") })
        #expect(log.filter { $0.hasPrefix("list") }.count > 3, "the listing should span several pages: \(log)")
        #expect(firstExport < lastPage, "exports should start before the last page was listed: \(log)")

        // The run's events say the same: download-exports started before the listing finished,
        // and committed after it.
        let events = try String(contentsOf: workspace.data.events(manifest.id), encoding: .utf8)
            .split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        func position(_ kind: String, _ stage: String) throws -> Int {
            try #require(events.firstIndex { $0["event"]?.stringValue == kind && $0["stage"]?.stringValue == stage })
        }
        #expect(try position("stage.started", "download-exports") < position("stage.finished", "fetch-workflow-pages"))
        #expect(try position("stage.finished", "fetch-workflow-pages") < position("stage.finished", "download-exports"))

        // Same outcome as a run with the listing in one page.
        let reference = try TestWorkspace()
        try await reference.sync(["initech"])
        #expect(try workspace.databaseDump().count == reference.databaseDump().count)
        #expect(try "\(workspace.store.counts(customerSlug: "initech"))" == "\(reference.store.counts(customerSlug: "initech"))")
    }

    /// What a consumer stage reads: batches of at least `min` while more are coming, never more
    /// than `max`, in order, and the producer's error once what came before it was read.
    @Test func batchesHoldAtLeastTheMinimumUntilTheProducerFinishes() async throws {
        struct Broken: Error {}
        let (parts, continuation) = AsyncThrowingStream<[Int], any Error>.makeStream()
        let batches = parts.batched(min: 3, max: 5)
        var iterator = batches.makeAsyncIterator()
        continuation.yield([1])
        continuation.yield([2])
        continuation.yield([3, 4, 5, 6, 7, 8])
        #expect(try await iterator.next() == [1, 2, 3, 4, 5])
        #expect(try await iterator.next() == [6, 7, 8])
        continuation.yield([9])
        continuation.yield([10, 11])
        #expect(try await iterator.next() == [9, 10, 11])
        continuation.yield([12])
        continuation.finish(throwing: Broken())
        #expect(try await iterator.next() == [12], "fewer than the minimum once the producer is done")
        await #expect(throws: Broken.self) { _ = try await iterator.next() }
    }

    /// Over a slow network exports trickle in: a batch with fewer than the minimum is handed over
    /// once its oldest item waited `maxWait`, while the producer is still open, so the last items
    /// are not all stored after the last download. Without a deadline it waits for the minimum.
    @Test(.timeLimit(.minutes(1))) func aBatchWithFewerThanTheMinimumIsHandedOverOnceItsOldestWaitedTheDeadline() async throws {
        let (parts, continuation) = AsyncThrowingStream<[Int], any Error>.makeStream()
        var iterator = parts.batched(min: 100, max: 4, maxWait: .milliseconds(30)).makeAsyncIterator()
        let started = ContinuousClock.now
        continuation.yield([1, 2])
        #expect(try await iterator.next() == [1, 2])
        #expect(ContinuousClock.now - started >= .milliseconds(30), "handed over at the deadline, not before")
        // More than `max` came: the rest keeps its arrival, and follows once its deadline passed.
        continuation.yield([3, 4, 5, 6, 7])
        #expect(try await iterator.next() == [3, 4, 5, 6])
        #expect(try await iterator.next() == [7])
        continuation.finish()
        #expect(try await iterator.next() == nil)

        let queue = BatchQueue<Int>()
        await queue.push([8])
        let waiting = Task { try await queue.next(min: 2, max: 10) }
        // The reader waits, and still does after a while (one that took [8] alone never waits).
        while !(await queue.hasWaitingReader) { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(60))
        #expect(await queue.hasWaitingReader)
        await queue.push([9])
        #expect(try await waiting.value == [8, 9], "without a deadline, the minimum")
    }

    @Test func aFailedListingCommitsNoExportsAndResumesToTheSameEnd() async throws {
        let workspace = try TestWorkspace()
        let mock = try workspace.mock()
        let probe = ListingProbeTransport(base: FixtureTransport(mock: mock), invalidPages: [3])
        let pipeline = try workspace.pipeline(Self.smallPages)
        let first = try await workspace.runner(transport: probe)
            .start(pipeline: pipeline, pipelinePath: "p.yaml", customers: workspace.customers(["initech"]))
        #expect(first.status == .failed)
        #expect(first.result(for: "initech")?.failedStage == "fetch-workflow-pages")
        #expect(probe.entries.contains { $0.hasPrefix("export") }, "exports should have started on the first pages")
        for (index, id) in [(2, "fetch-workflow-pages"), (3, "download-exports")] {
            let commit = workspace.data.stage(run: first.id, customer: "initech", index: index, stageID: id).appendingPathComponent(StageFiles.commit)
            #expect(!FileManager.default.fileExists(atPath: commit.path), "\(id) must not be committed")
        }

        let resumed = try await workspace.runner(transport: FixtureTransport(mock: mock))
            .resume(runID: first.id, customers: workspace.customers(["initech"]))
        #expect(resumed.status == .succeeded)
        let reference = try TestWorkspace()
        try await reference.sync(["initech"])
        #expect(try "\(workspace.store.counts(customerSlug: "initech"))" == "\(reference.store.counts(customerSlug: "initech"))")
        let exports = workspace.data.stage(run: first.id, customer: "initech", index: 3, stageID: "download-exports")
            .appendingPathComponent(DownloadExports.exportsFolder)
        let referenceRun = try #require(reference.data.manifests().first)
        let referenceExports = reference.data.stage(run: referenceRun.id, customer: "initech", index: 3, stageID: "download-exports")
            .appendingPathComponent(DownloadExports.exportsFolder)
        #expect(workspace.files(under: exports) == reference.files(under: referenceExports))
    }
}

/// The channel between two stages that stream: a consumer that holds at most so many items makes
/// its producer wait, and never leaves it waiting once it stops taking.
@Suite("Streaming stages: a slower consumer slows its producer down", .timeLimit(.minutes(2)))
struct StreamBackpressureTests {
    /// Items published so far, as the producer sees them return.
    final class Published: @unchecked Sendable {
        // @unchecked: `count` is only touched under `lock`.
        private let lock = NSLock()
        private var value = 0
        var count: Int { lock.withLock { value } }
        func add() { lock.withLock { value += 1 } }
    }

    /// Yields (no wall clock) until `condition` holds or the bound is reached; returns whether it held.
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<10_000 where !condition() { await Task.yield() }
        return condition()
    }

    func producer(_ cache: StageResultCache, items: Int, published: Published) -> Task<Void, Never> {
        Task {
            for item in 0..<items {
                await cache.publish(item, count: 1, for: "producer")
                published.add()
            }
        }
    }

    @Test func aProducerWaitsWhileItsConsumerHoldsItsLimitAndGoesOnWhenAcknowledged() async throws {
        let cache = StageResultCache()
        cache.openStream(for: "producer")
        let stream = try #require(cache.takeStream(for: "producer", limit: 3))
        let published = Published()
        let producing = producer(cache, items: 5, published: published)
        #expect(await eventually { published.count == 3 })
        // It stays there: three are out and none acknowledged.
        for _ in 0..<1_000 { await Task.yield() }
        #expect(published.count == 3)
        cache.acknowledge(2, for: "producer")
        #expect(await eventually { published.count == 5 })
        await producing.value
        cache.finishStream(for: "producer", error: nil)
        var received: [Int] = []
        for try await item in stream { received.append(item as! Int) }
        #expect(received == [0, 1, 2, 3, 4])
    }

    @Test func aConsumerThatStopsOrAProducerThatIsCancelledWaitsNoLonger() async throws {
        let cache = StageResultCache()
        cache.openStream(for: "producer")
        _ = try #require(cache.takeStream(for: "producer", limit: 1))
        let published = Published()
        let producing = producer(cache, items: 4, published: published)
        #expect(await eventually { published.count == 1 })
        for _ in 0..<1_000 { await Task.yield() }
        #expect(published.count == 1)
        // The consumer finished (or failed) without acknowledging: the producer goes on.
        cache.releaseStream(for: "producer")
        #expect(await eventually { published.count == 4 })
        await producing.value

        cache.finishStream(for: "producer", error: nil)
        cache.openStream(for: "producer")
        _ = try #require(cache.takeStream(for: "producer", limit: 1))
        let second = Published()
        let cancelled = producer(cache, items: 3, published: second)
        #expect(await eventually { second.count == 1 })
        cancelled.cancel()
        #expect(await eventually { second.count == 3 }, "a cancelled producer does not wait")
        await cancelled.value
        // Without a limit (a dry run's drain), nothing waits.
        cache.openStream(for: "unlimited")
        _ = try #require(cache.takeStream(for: "unlimited"))
        for item in 0..<100 { await cache.publish(item, count: 1, for: "unlimited") }
    }

    /// Every streaming stage holding one item, so every producer waits on every item: a full sync
    /// ends as it does without the limit, a dry run (which acknowledges nothing) ends, and so does
    /// a run whose downloads fail midway. A producer left waiting would hang (the time limit).
    @Test func withEveryConsumerHoldingOneItemRunsEndAsWithoutTheLimit() async throws {
        func run(_ workspace: TestWorkspace, holding limit: Int?, transport: (any HTTPTransport)? = nil,
                 options: RunOptions = RunOptions()) async throws -> RunManifest {
            var runner = workspace.runner(transport: try transport ?? FixtureTransport(mock: try workspace.mock()))
            runner.streamHoldLimit = limit
            return try await runner.start(pipeline: try workspace.pipeline(), pipelinePath: "pipelines/sync-workflows.yaml",
                                          customers: workspace.customers(), options: options)
        }
        let limited = try TestWorkspace()
        #expect(try await run(limited, holding: 1, options: RunOptions(dryRun: true)).status == .succeeded)
        #expect(try await run(limited, holding: 1).status == .succeeded)
        let free = try TestWorkspace()
        #expect(try await run(free, holding: nil).status == .succeeded)
        let dump = try limited.databaseDump()
        #expect(dump.split(separator: "\n").count > 100)
        #expect(dump == (try free.databaseDump()))

        let failing = try TestWorkspace()
        let manifest = try await run(failing, holding: 1,
                                     transport: FailingAfterTransport(base: FixtureTransport(mock: try failing.mock()), limit: 12))
        #expect(manifest.status != .succeeded)
    }
}
