import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncJobs
import ZuoraSyncTesting

/// `zuora-sync status` as a health check, `--version`, global options before the subcommand, and
/// `--json` on the listing commands.
@Suite("Status, version and global options")
struct StatusTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.writeCustomers()
    }


    @Test func statusExitsTwoUntilEveryCustomerSyncedThenZero() async throws {
        let before = try await workspace.zuoraSync(["status", "--pipeline", TestWorkspace.pipelinePath])
        #expect(before.exitCode == 2, "\(before.stderr)")
        #expect(before.stdout.contains("never-synced: globex has never been synced"))
        #expect(before.stdout.contains("→ zuora-sync run --customer globex"))

        let run = try await workspace.zuoraSync(["run", "--all", "--pipeline", TestWorkspace.pipelinePath])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let after = try await workspace.zuoraSync(["status", "--pipeline", TestWorkspace.pipelinePath])
        #expect(after.exitCode == 0, "\(after.stdout)")
        #expect(after.stdout.contains("All is well."))
        #expect(after.stdout.contains("jobs: 0 waiting, 0 running, 0 failed"))
        #expect(after.stdout.contains("next scheduled slot: "))

        let json = try await workspace.zuoraSync(["status", "--json", "--pipeline", TestWorkspace.pipelinePath])
        let parsed = try JSONValue.parse(Data(json.stdout.utf8))
        #expect(parsed["customers"]?.arrayValue?.map { $0["lastResult"]?.stringValue } == ["succeeded", "succeeded"])
        #expect(parsed["problems"]?.arrayValue?.isEmpty == true)
        #expect(parsed["nextScheduledSlot"]?.stringValue != nil)
    }

    @Test func aFailedJobNeedsAttentionWithTheCommandToRetryIt() async throws {
        try workspace.writeCustomers(secrets: ["globex": "Wr0ngSecretValue", "initech": "initech-demo-secret"])
        #expect(try await workspace.zuoraSync(["sync", "--customer", "globex", "--pipeline", TestWorkspace.pipelinePath]).exitCode == 0)
        let work = try await workspace.zuoraSync(["work", "--stop-when-empty"])
        #expect(work.exitCode == 1)
        let status = try await workspace.zuoraSync(["status", "--pipeline", TestWorkspace.pipelinePath])
        #expect(status.exitCode == 2)
        #expect(status.stdout.contains("jobs: 0 waiting, 0 running, 1 failed"))
        let job = try #require(JobQueue(dataDirectory: workspace.data).jobs(in: .failed).first)
        #expect(status.stdout.contains("failed-job: job \(job.id) (globex) failed after 1 attempt(s)"))
        #expect(status.stdout.contains("→ zuora-sync jobs retry \(job.id)"))
        #expect(status.stdout.contains("last-run-failed: globex's last run"))
        #expect(!status.stdout.contains("Wr0ngSecretValue"))
        // The worker rewrote the metrics after the job.
        let metrics = try String(contentsOf: workspace.data.metricsFile, encoding: .utf8)
        #expect(metrics.contains("zuora_sync_queue_jobs{state=\"failed\"} 1\n"))
        #expect(metrics.contains("zuora_sync_last_run_success{customer=\"globex\"} 0\n"))
    }

    @Test func staleAndInterruptedRunsNeedAttention() async throws {
        let clock = ManualClock()
        let manifest = try await workspace.sync(["initech"], clock: clock)
        let pipeline = try workspace.pipeline()   // hourly
        let check = HealthCheck(dataDirectory: workspace.data)
        let fresh = check.check(customers: ["initech"], pipelines: [("p.yaml", pipeline)], now: clock.now().addingTimeInterval(600))
        #expect(fresh.isHealthy, "\(fresh.problems)")
        #expect(fresh.customers.first?.ageSeconds == 600)
        let late = check.check(customers: ["initech"], pipelines: [("p.yaml", pipeline)], now: clock.now().addingTimeInterval(4 * 3600))
        #expect(late.problems.map(\.kind) == ["stale-sync"])
        #expect(late.problems.first?.message.contains("more than 3 × the schedule interval (60 min)") == true)

        // A run left interrupted, with no later success, needs a resume.
        var interrupted = manifest
        interrupted.id = "20260101T000000Z-abcdef"
        interrupted.status = .interrupted
        interrupted.startedAt = clock.now().addingTimeInterval(60)
        interrupted.results = [CustomerResult(customer: "initech", status: .interrupted)]
        try CanonicalJSON.write(interrupted, to: workspace.data.manifest(interrupted.id))
        let report = check.check(customers: ["initech"], pipelines: [], now: clock.now().addingTimeInterval(120))
        #expect(report.problems.contains { $0.kind == "interrupted-run" && $0.action == "zuora-sync resume \(interrupted.id)" })
    }

    @Test func aLockHeldForHoursNeedsAttention() async throws {
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let lock = try CustomerLock.acquire(customer: "initech", in: workspace.data, now: clock.now())
        defer { lock.release() }
        let check = HealthCheck(dataDirectory: workspace.data)
        let soon = check.check(customers: ["initech"], pipelines: [], now: clock.now().addingTimeInterval(60))
        #expect(soon.isHealthy, "a lock held for a minute is a run at work")
        let later = check.check(customers: ["initech"], pipelines: [], now: clock.now().addingTimeInterval(7 * 3600))
        let problem = try #require(later.problems.first { $0.kind == "stale-lock" })
        #expect(problem.customer == "initech")
        #expect(problem.message.contains("pid \(getpid())"))
        lock.release()
        #expect(check.check(customers: ["initech"], pipelines: [], now: clock.now().addingTimeInterval(7 * 3600)).isHealthy,
                "a lock file nobody holds is no problem")
    }

    @Test func versionNamesLibcurlAndSQLite() async throws {
        let result = try await CommandLineRunner.run(["--version"], in: workspace.root)
        #expect(result.exitCode == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("zuora-sync "))
        #expect(lines[1].hasPrefix("libcurl/"))
        #expect(lines[2].hasPrefix("SQLite 3."))
    }

    @Test func globalOptionsWorkBeforeTheSubcommand() async throws {
        let run = try await CommandLineRunner.run(["--data-dir", workspace.data.root.path, "--customers", "customers.yaml",
                                                   "--fixtures=\(workspace.fixtures.path)", "run", "--customer", "initech",
                                                   "--pipeline", TestWorkspace.pipelinePath], in: workspace.root)
        #expect(run.exitCode == 0, "\(run.stderr)")
        let runs = try await CommandLineRunner.run(["--data-dir", workspace.data.root.path, "runs"], in: workspace.root)
        #expect(runs.exitCode == 0, "\(runs.stderr)")
        #expect(runs.stdout.contains("succeeded"))
        let nested = try await CommandLineRunner.run(["-v", "--data-dir", workspace.data.root.path, "customers", "list"], in: workspace.root)
        #expect(nested.exitCode == 0, "\(nested.stderr)")
        #expect(nested.stdout.contains("initech"))
        let unknown = try await CommandLineRunner.run(["--nope", "runs"], in: workspace.root)
        #expect(unknown.exitCode == 64)
    }

    @Test func listingCommandsPrintJSON() async throws {
        #expect(try await workspace.zuoraSync(["run", "--customer", "initech", "--pipeline", TestWorkspace.pipelinePath]).exitCode == 0)
        let customers = try await workspace.zuoraSync(["customers", "list", "--json"])
        let list = try #require(try JSONValue.parse(Data(customers.stdout.utf8)).arrayValue)
        #expect(list.map { $0["id"]?.stringValue } == ["globex", "initech"])
        #expect(list.last?["lastResult"]?.stringValue == "succeeded")
        #expect(!customers.stdout.contains("demo-secret"))
        let schedule = try await workspace.zuoraSync(["schedule", "list", "--json", "--pipeline", TestWorkspace.pipelinePath])
        let plans = try #require(try JSONValue.parse(Data(schedule.stdout.utf8)).arrayValue)
        #expect(plans.first?["schedule"]?.stringValue == "0 * * * *")
        #expect(plans.first?["nextRun"]?.stringValue != nil)
        let validate = try await workspace.zuoraSync(["customers", "validate", "--json"])
        #expect(validate.exitCode == 0, "\(validate.stderr)")
        let verdicts = try #require(try JSONValue.parse(Data(validate.stdout.utf8)).arrayValue)
        #expect(verdicts.map { $0["id"]?.stringValue } == ["globex", "initech"])
        #expect(verdicts.allSatisfy { $0["isOK"]?.boolValue == true })
    }
}
