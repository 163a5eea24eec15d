import FlyingFox
import FlyingSocks
import Foundation
import Logging
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

@Suite("Job queue, worker, scheduler, notifications")
struct QueueTests {
    let workspace: TestWorkspace
    init() throws { workspace = try TestWorkspace() }

    var queue: JobQueue { JobQueue(dataDirectory: workspace.data) }

    func worker(mock: MockZuora, clock: any WallClock, customers: [CustomerConfig]? = nil,
                notices: NoticeRecorder = NoticeRecorder()) -> Worker {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let list = customers ?? workspace.customers()
        return Worker(dataDirectory: workspace.data, makeTransport: { _ in FixtureTransport(mock: mock) }, clock: clock, logger: logger,
                      environment: [:], loadCustomers: { list },
                      makeNotifier: { pipeline, logger in Notifier(settings: NotificationSettings(webhook: "https://hooks.test/x"), transport: notices, logger: logger) })
    }

    func enqueue(_ ids: [String], now: Date, pipeline: String = TestWorkspace.pipelinePath) throws -> [Job] {
        try ids.map { try #require(try queue.enqueue(pipelinePath: pipeline, customer: $0, settings: JobSettings(), now: now)) }
    }

    @Test func enqueueThenWorkSyncsEveryCustomer() async throws {
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        let jobs = try enqueue(["globex", "initech", "hooli"], now: clock.now())
        #expect(try queue.enqueue(pipelinePath: TestWorkspace.pipelinePath, customer: "globex", settings: JobSettings(), now: clock.now()) == nil,
                "a second job for a queued customer is not added")
        let summary = try await worker(mock: mock, clock: clock).work(stopWhenEmpty: true)
        #expect(Set(summary.processed.map(\.id)) == Set(jobs.map(\.id)))
        #expect(queue.jobs(in: .done).count == 3)
        #expect(queue.jobs(in: .waiting).isEmpty && queue.jobs(in: .running).isEmpty)
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
        for job in queue.jobs(in: .done) {
            #expect(job.attempts == 1)
            #expect(try workspace.data.loadManifest(job.runID!).status == .succeeded)
        }
    }

    @Test func aJobFailingTwiceThenSucceedingHasThreeAttemptsAtTheExpectedTimesAndResumesItsRun() async throws {
        let clock = ManualClock()
        // Each attempt's first list page fails 5 times (the call's retries); attempts 1 and 2 use up 10.
        let mock = try workspace.mock(clock: clock, faults: "503:list@1x10")
        let job = try enqueue(["initech"], now: clock.now())[0]
        let summary = try await worker(mock: mock, clock: clock).work(stopWhenEmpty: true)
        let done = try #require(try queue.find(job.id))
        #expect(done.state == .done)
        #expect(done.attempts == 3)
        #expect(summary.processed.map(\.state) == [.waiting, .waiting, .done])
        let starts = done.attemptStartedAt
        #expect(starts.count == 3)
        let firstGap = starts[1].timeIntervalSince(starts[0]), secondGap = starts[2].timeIntervalSince(starts[1])
        #expect(firstGap >= 60 && firstGap < 75, "2nd attempt 60 s after the 1st failed (+ that attempt's own backoff): \(firstGap)")
        #expect(secondGap >= 120 && secondGap < 135, "3rd attempt 120 s after the 2nd failed: \(secondGap)")
        let manifest = try workspace.data.loadManifest(try #require(done.runID))
        #expect(manifest.passes == 3, "every retry resumed the same run")
        #expect(manifest.status == .succeeded)
        #expect(workspace.data.manifests().count == 1)
    }

    @Test func aNotRetryableFailureFailsAtOnceAndNotifies() async throws {
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        var customers = workspace.customers(["initech"])
        customers[0].secret = .inline("definitely-wrong-secret")
        let notices = NoticeRecorder()
        let job = try enqueue(["initech"], now: clock.now())[0]
        _ = try await worker(mock: mock, clock: clock, customers: customers, notices: notices).work(stopWhenEmpty: true)
        let failed = try #require(try queue.find(job.id))
        #expect(failed.state == .failed)
        #expect(failed.attempts == 1)
        #expect(failed.isRetryable == false)
        #expect(failed.lastError?.contains("oauth-token") == true)
        let notice = try #require(notices.notices.first)
        #expect(notice.customer == "initech")
        #expect(notice.attempts == 1)
        #expect(notice.text.contains("failed for good"))
        #expect(!notice.text.contains("definitely-wrong-secret") && !notice.error.contains("definitely-wrong-secret"))
    }

    @Test func aCustomerRemovedFromTheConfigurationIsNotRetried() async throws {
        let clock = ManualClock()
        let job = try enqueue(["initech"], now: clock.now())[0]
        _ = try await worker(mock: try workspace.mock(clock: clock), clock: clock, customers: workspace.customers(["globex"])).work(stopWhenEmpty: true)
        let failed = try #require(try queue.find(job.id))
        #expect(failed.state == .failed && failed.attempts == 1)
        #expect(failed.lastError?.contains("no longer in the customers file") == true)
    }

    @Test func twoWorkersNeverRunOneJobTwice() async throws {
        // Real time: with a shared fake clock, the idle worker's polling would age the other's lease.
        let mock = try workspace.mock(clock: SystemClock())
        let jobs = try enqueue(["globex", "initech", "hooli"], now: Date())
        let one = worker(mock: mock, clock: SystemClock()), two = worker(mock: mock, clock: SystemClock())
        async let first = one.work(stopWhenEmpty: true)
        async let second = two.work(stopWhenEmpty: true)
        let processed = try await first.processed + second.processed
        #expect(processed.map(\.id).sorted() == jobs.map(\.id).sorted(), "\(processed.map { ($0.id, $0.state, $0.lastError ?? "") })")
        #expect(queue.jobs(in: .done).allSatisfy { $0.attempts == 1 })
        #expect(mock.stats.count("globex", .list) == 3 && mock.stats.count("initech", .list) == 1 && mock.stats.count("hooli", .list) == 1)
    }

    @Test func concurrentClaimsTakeEachJobExactlyOnce() async throws {
        let now = Date()
        for index in 0..<40 { _ = try queue.enqueue(pipelinePath: "p", customer: "c\(index)", settings: JobSettings(), now: now) }
        let queue = self.queue
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for claimer in 0..<4 {
                group.addTask {
                    var mine: [String] = []
                    let lease = Job.Lease(owner: "w\(claimer)", pid: 1, host: "h", heartbeatAt: now, expiresAt: now.addingTimeInterval(60))
                    while let job = try queue.claim(owner: lease, now: now) { mine.append(job.id) }
                    return mine
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claimed.count == 40)
        #expect(Set(claimed).count == 40)
    }

    @Test func aJobWhoseWorkerDiedIsFinishedByAnotherResumingItsRun() async throws {
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        let job = try enqueue(["globex"], now: clock.now())[0]
        // A worker claimed it, started the run, and died after 40 requests (no heartbeat since).
        let dead = Job.Lease(owner: "dead-worker", pid: 99_999, host: "gone", heartbeatAt: clock.now(), expiresAt: clock.now().addingTimeInterval(120))
        var claimed = try #require(try queue.claim(owner: dead, now: clock.now()))
        let runID = "20260101T000000Z-dead00"
        claimed.runID = runID
        try queue.update(claimed)
        let interrupted = try await workspace.runner(transport: FailingAfterTransport(base: FixtureTransport(mock: mock), limit: 40), clock: clock, runID: runID)
            .start(pipeline: try workspace.pipeline(), pipelinePath: TestWorkspace.pipelinePath, customers: workspace.customers(["globex"]))
        #expect(interrupted.status == .failed)
        let exportsBefore = mock.stats.count("globex", .export)

        // Before the lease expires nothing happens; after it, another worker takes the job back.
        #expect(try queue.recoverExpiredLeases(now: clock.now()).isEmpty)
        clock.advance(seconds: 121)
        let summary = try await worker(mock: mock, clock: clock).work(stopWhenEmpty: true)
        let finished = try #require(try queue.find(job.id))
        #expect(summary.processed.map(\.id) == [job.id])
        #expect(finished.state == .done)
        #expect(finished.runID == runID)
        #expect(try workspace.data.loadManifest(runID).passes == 2)
        #expect(mock.stats.count("globex", .export) - exportsBefore < 123, "exports downloaded before the crash were kept")
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
    }

    @Test func aJobWhoseRunAlreadySucceededIsMarkedDoneWithoutSyncingAgain() async throws {
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        let finished = try await workspace.sync(["initech"], mock: mock, clock: clock, runID: "20260101T000000Z-done00")
        var job = try enqueue(["initech"], now: clock.now())[0]
        job.runID = finished.id
        try queue.update(job)
        let before = mock.stats
        let summary = try await worker(mock: mock, clock: clock).work(stopWhenEmpty: true)
        #expect(summary.processed.map(\.state) == [.done])
        #expect(mock.stats == before, "no request: the run had already succeeded")
    }

    @Test func scheduleRunEnqueuesOncePerSlotAndCatchesUpOnce() throws {
        let clock = ManualClock(Timestamp.parse("2026-11-29T10:00:05Z")!)
        let scheduler = Scheduler(dataDirectory: workspace.data, clock: clock)
        let pipeline = try workspace.pipeline()
        let pipelines = [(path: "pipelines/sync-workflows.yaml", definition: pipeline)]
        #expect(try scheduler.runDue(pipelines: pipelines, customers: workspace.customers()).count == 3)
        // The jobs ran meanwhile: a second call in the same minute must not enqueue again.
        for job in queue.jobs() { try queue.forget(job.id) }
        clock.advance(seconds: 40)
        #expect(try scheduler.runDue(pipelines: pipelines, customers: workspace.customers()).isEmpty)
        clock.advance(seconds: 60)
        #expect(try scheduler.runDue(pipelines: pipelines, customers: workspace.customers()).isEmpty, "10:01 is not a slot")
        // Five hours of downtime: one catch-up, for the latest slot.
        clock.advance(seconds: 5 * 3600 + 1200)
        #expect(try scheduler.runDue(pipelines: pipelines, customers: workspace.customers()).count == 3)
        let plan = try #require(scheduler.plans(pipelines: pipelines).first)
        #expect(plan.lastEnqueuedSlot.map(Timestamp.format) == "2026-11-29T15:00:00.000Z")
        #expect(plan.nextRun.map(Timestamp.format) == "2026-11-29T16:00:00.000Z")
    }

    @Test func aFailedJobPostsToAWebhook() async throws {
        let receiver = WebhookReceiver()
        let server = HTTPServer(address: try sockaddr_in.inet(ip4: "127.0.0.1", port: 0), logger: .disabled)
        await server.appendRoute("POST /hook") { request in
            receiver.record(try await request.bodyData)
            return FlyingFox.HTTPResponse(statusCode: .ok)
        }
        let serverTask = Task { try await server.run() }
        defer { serverTask.cancel() }
        try await server.waitUntilListening(timeout: 120) // generous: a loaded CI machine is slow to schedule it
        guard case .ip4(_, let port)? = await server.listeningAddress else { Issue.record("no port"); return }

        var text = try String(contentsOfFile: TestWorkspace.pipelinePath, encoding: .utf8)
        text = text.replacingOccurrences(of: "stages:\n", with: "notifications:\n  webhook: http://127.0.0.1:\(port)/hook\n\nstages:\n")
        let pipelinePath = workspace.root.appendingPathComponent("pipeline.yaml").path
        try text.write(toFile: pipelinePath, atomically: true, encoding: .utf8)

        let clock = ManualClock()
        var customers = workspace.customers(["initech"])
        customers[0].secret = .inline("wrong-secret-xyz")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let mock = try workspace.mock(clock: clock)
        let configured = customers
        let worker = Worker(dataDirectory: workspace.data, makeTransport: { _ in FixtureTransport(mock: mock) }, clock: clock, logger: logger,
                            environment: [:], loadCustomers: { configured })
        _ = try enqueue(["initech"], now: clock.now(), pipeline: pipelinePath)
        _ = try await worker.work(stopWhenEmpty: true)
        let body = try #require(receiver.bodies.first)
        let payload = try JSONValue.parse(body)
        #expect(payload["customer"] == .string("initech"))
        #expect(payload["pipeline"] == .string("sync-workflows"))
        #expect(payload["attempts"] == .int(1))
        #expect(payload["text"]?.stringValue?.contains("initech failed for good") == true)
        #expect(payload["error"]?.stringValue?.contains("Bad client credentials") == true)
        #expect(!String(decoding: body, as: UTF8.self).contains("wrong-secret-xyz"))
    }
}

/// Captures notices instead of sending them.
final class NoticeRecorder: HTTPTransport, @unchecked Sendable {
    // @unchecked: `received` is only touched under `lock`.
    private let lock = NSLock()
    private var received: [FailureNotice] = []
    var notices: [FailureNotice] { lock.withLock { received } }

    func send(_ request: ZuoraSyncHTTP.HTTPRequest) async throws -> ZuoraSyncHTTP.HTTPResponse {
        let notice = try CanonicalJSON.decode(FailureNotice.self, from: request.body ?? Data())
        lock.withLock { received.append(notice) }
        return ZuoraSyncHTTP.HTTPResponse(status: 200)
    }
}

final class WebhookReceiver: @unchecked Sendable {
    // @unchecked: `received` is only touched under `lock`.
    private let lock = NSLock()
    private var received: [Data] = []
    var bodies: [Data] { lock.withLock { received } }
    func record(_ body: Data) { lock.withLock { received.append(body) } }
}
