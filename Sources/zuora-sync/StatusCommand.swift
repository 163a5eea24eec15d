import ArgumentParser
import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncJobs

/// `zuora-sync status [--json]`: a health check. Exit 0 when all is well, 2 when something needs
/// attention (each problem says what to do), 64 on bad configuration.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per customer the last successful sync, its age and result; the queue; the next slot; problems. Exit 2 when something needs attention.")

    /// The exit code when a problem needs attention.
    static let needsAttention: Int32 = 2

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("pipeline"), help: "Scheduled pipeline files (default: pipelines/*.yaml).") var pipelines: [String] = []
    @Option(name: .customLong("stale-after"), help: "A customer not synced within this many schedule intervals needs attention (default 3).")
    var staleAfter: Double = 3
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let customers = try global.loadCustomers()
        var check = HealthCheck(dataDirectory: global.dataDirectory)
        check.staleAfterIntervals = staleAfter
        check.queue = try global.jobQueue()
        let report = check.check(customers: customers.map(\.id), pipelines: try ScheduleCommand.pipelines(pipelines), now: SystemClock().now())
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(report))
        } else {
            print(Self.render(report), terminator: "")
        }
        if !report.isHealthy { throw ExitCode(Self.needsAttention) }
    }

    static func render(_ report: HealthReport) -> String {
        var text = RunSummaryFormatter.table(["customer", "last success (UTC)", "age", "last result", "last run"], report.customers.map { customer in
            [customer.id, customer.lastSuccessAt.map(Timestamp.format) ?? "never",
             customer.ageSeconds.map { HealthCheck.describe(seconds: Double($0)) } ?? "-", customer.lastResult ?? "-", customer.lastRunID ?? "-"]
        }) + "\n\n"
        text += "jobs: \(report.jobs.waiting) waiting, \(report.jobs.running) running, \(report.jobs.failed) failed\n"
        text += "next scheduled slot: \(report.nextScheduledSlot.map(Timestamp.format) ?? "none (no pipeline in pipelines/)")\n"
        if report.problems.isEmpty {
            text += "\nAll is well.\n"
        } else {
            text += "\nNeeds attention (\(report.problems.count)):\n"
            for problem in report.problems { text += "  \(problem.kind): \(problem.message)\n      → \(problem.action)\n" }
        }
        return text
    }
}
