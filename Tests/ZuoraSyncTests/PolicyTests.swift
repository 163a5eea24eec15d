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

@Suite("Policies: full passes, rate limits, queue maintenance, notification commands")
struct PolicyTests {
    @Test func fullFlagAndDailyFullPassDownloadEverythingButCountOnlyRealChanges() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let mock = try workspace.mock(clock: clock)
        try await workspace.sync(["initech"], mock: mock, clock: clock)
        clock.advance(seconds: 3600)
        let forced = try await workspace.sync(["initech"], mock: mock, clock: clock, options: RunOptions(full: true))
        #expect(forced.figures("initech")?.exportsDownloaded == 6)
        #expect(forced.figures("initech")?.updated == 0, "same content: nothing counted as updated")
        clock.advance(seconds: 3600)
        let hourly = try await workspace.sync(["initech"], mock: mock, clock: clock)
        #expect(hourly.figures("initech")?.exportsDownloaded == 0)
        clock.advance(seconds: 24 * 3600)
        let daily = try await workspace.sync(["initech"], mock: mock, clock: clock)
        #expect(daily.figures("initech")?.exportsDownloaded == 6, "full_every_hours: 24 forces a full pass a day")
    }

    @Test func rateLimitHeadersPauseAndA429HalvesConcurrency() async throws {
        let clock = ManualClock()
        let limiter = ConcurrencyLimiter(maximum: 8, clock: clock)
        await limiter.observe(remaining: "0", reset: "5")
        try await limiter.acquire()
        await limiter.release()
        #expect(clock.recordedSleeps == [5], "waited for RateLimit-Reset before the next request")
        await limiter.didHitRateLimit()
        #expect(await limiter.limit == 4)
        await limiter.didHitRateLimit()
        #expect(await limiter.limit == 2)
        for _ in 0..<2 { await limiter.didSucceed() }
        #expect(await limiter.limit == 3, "grows back one step after `limit` successes")
        await limiter.observe(remaining: "12", reset: "5")
        try await limiter.acquire()
        await limiter.release()
        #expect(clock.recordedSleeps == [5], "no pause while requests remain")
    }

    private actor OrderLog {
        var entries: [String] = []
        func append(_ entry: String) { entries.append(entry) }
    }

    /// Waits (without a clock) until the limiter has `count` requests queued; gives up when the
    /// test is cancelled (its time limit), so that a wrong limiter fails the test instead of hanging it.
    private func waitUntil(_ limiter: ConcurrencyLimiter, holdsWaiting count: Int) async throws {
        while await limiter.waiting != count {
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    /// The task's outcome; cancelling the test cancels the task (a request still waiting for a slot).
    private func outcome(of task: Task<Void, any Error>) async throws {
        try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    @Test(.timeLimit(.minutes(1))) func aFreedSlotGoesToTheLongestWaitingRequestWithListingPagesFirst() async throws {
        let limiter = ConcurrencyLimiter(maximum: 1, clock: ManualClock())
        let order = OrderLog()
        try await limiter.acquire()
        let export1 = Task { try await limiter.acquire(.normal); await order.append("export 1") }
        try await waitUntil(limiter, holdsWaiting: 1)
        let export2 = Task { try await limiter.acquire(.normal); await order.append("export 2") }
        try await waitUntil(limiter, holdsWaiting: 2)
        let page = Task { try await limiter.acquire(.first); await order.append("page") }
        try await waitUntil(limiter, holdsWaiting: 3)

        await limiter.release()
        // Handed over inside `release`: the slot is the page's before its task runs again.
        #expect(await limiter.waiting == 2)
        #expect(await limiter.inFlight == 1, "the slot went straight to the page: nothing arriving now can take it")
        try await outcome(of: page)
        await limiter.release()
        try await outcome(of: export1)
        let late = Task { try await limiter.acquire(.normal); await order.append("late") }
        try await waitUntil(limiter, holdsWaiting: 2)
        await limiter.release()
        try await outcome(of: export2)
        await limiter.release()
        try await outcome(of: late)
        #expect(await order.entries == ["page", "export 1", "export 2", "late"])
        await limiter.release()
        #expect(await limiter.inFlight == 0)
    }

    @Test(.timeLimit(.minutes(1))) func afterA429WaitingRequestsStartOnlyOnceFewerThanTheNewLimitAreInFlight() async throws {
        let limiter = ConcurrencyLimiter(maximum: 4, clock: ManualClock())
        for _ in 0..<4 { try await limiter.acquire() }
        await limiter.didHitRateLimit()
        let waiter = Task { try await limiter.acquire() }
        try await waitUntil(limiter, holdsWaiting: 1)
        await limiter.release()
        await limiter.release()
        #expect(await limiter.waiting == 1, "two in flight at a limit of 2: no slot free")
        #expect(await limiter.inFlight == 2)
        await limiter.release()
        try await outcome(of: waiter)
        #expect(await limiter.inFlight == 2)
        #expect(await limiter.waiting == 0)
        // Successes grow the limit back, and the slot it adds goes to a waiting request at once.
        let grown = Task { try await limiter.acquire() }
        try await waitUntil(limiter, holdsWaiting: 1)
        for _ in 0..<2 { await limiter.didSucceed() }
        try await outcome(of: grown)
        #expect(await limiter.limit == 3)
        #expect(await limiter.inFlight == 3)
    }

    @Test(.timeLimit(.minutes(1))) func aRequestCancelledWhileWaitingLeavesTheQueueAndTheSlotGoesToTheNext() async throws {
        let limiter = ConcurrencyLimiter(maximum: 1, clock: ManualClock())
        try await limiter.acquire()
        let log = OrderLog()
        let cancelled = Task {
            do { try await limiter.acquire(); await log.append("acquired") } catch is CancellationError { await log.append("cancelled") }
        }
        try await waitUntil(limiter, holdsWaiting: 1)
        let next = Task { try await limiter.acquire() }
        try await waitUntil(limiter, holdsWaiting: 2)
        cancelled.cancel()
        // Polled, not awaited: a limiter that kept the request, or dropped it without an answer,
        // fails the test at its time limit instead of hanging it.
        try await waitUntil(limiter, holdsWaiting: 1)
        while await log.entries.isEmpty {
            try Task.checkCancellation()
            await Task.yield()
        }
        #expect(await log.entries == ["cancelled"])
        await limiter.release()
        try await outcome(of: next)
        #expect(await limiter.inFlight == 1, "the slot went to the request still waiting, not to the cancelled one")
    }

    @Test func failedJobsCanBeRetriedForgottenAndPruned() throws {
        let workspace = try TestWorkspace()
        let queue = JobQueue(dataDirectory: workspace.data)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var job = try #require(try queue.enqueue(pipelinePath: "p", customer: "a", settings: JobSettings(), now: start))
        let lease = Job.Lease(owner: "w", pid: 1, host: "h", heartbeatAt: start, expiresAt: start.addingTimeInterval(60))
        job = try #require(try queue.claim(owner: lease, now: start))
        job.state = .failed
        job.lease = nil
        try queue.move(job, from: .running)
        #expect(queue.jobs(in: .failed).map(\.id) == [job.id])
        let retried = try queue.retry(job.id, now: start)
        #expect(retried.state == .waiting && retried.attempts == 0)
        #expect(queue.jobs(in: .failed).isEmpty && queue.jobs(in: .waiting).count == 1)
        #expect(throws: FileError.self) { try queue.retry(job.id, now: start) }
        try queue.forget(job.id)
        #expect(queue.jobs().isEmpty)

        var old = try #require(try queue.enqueue(pipelinePath: "p", customer: "b", settings: JobSettings(), now: start))
        old = try #require(try queue.claim(owner: lease, now: start))
        old.state = .done
        try queue.move(old, from: .running)
        #expect(try queue.prune(olderThan: start) == 0)
        #expect(try queue.prune(olderThan: start.addingTimeInterval(8 * 86_400)) == 1)
        #expect(queue.jobs().isEmpty)
    }

    @Test func aNotificationCommandGetsTheDataButNotTheWorkersSecrets() async throws {
        let workspace = try TestWorkspace()
        let output = workspace.root.appendingPathComponent("notice.env")
        setenv("ZUORA_TEST_SECRET_FOR_NOTIFY", "s3cr3t-value", 1)
        defer { unsetenv("ZUORA_TEST_SECRET_FOR_NOTIFY") }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let notifier = Notifier(settings: NotificationSettings(command: "env > '\(output.path)'; exit 3"), logger: logger)
        await notifier.notify(FailureNotice(text: "t", customer: "acme", pipeline: "sync-workflows", error: "boom", attempts: 3,
                                            runID: "r1", jobID: "j1"))
        let env = try String(contentsOf: output, encoding: .utf8)
        #expect(env.contains("ZUORA_SYNC_CUSTOMER=acme"))
        #expect(env.contains("ZUORA_SYNC_ERROR=boom"))
        #expect(env.contains("ZUORA_SYNC_ATTEMPTS=3"))
        #expect(!env.contains("s3cr3t-value"))
    }
}
