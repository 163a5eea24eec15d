import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// `metrics/zuora_sync.prom`: per customer (label `customer`) the last success time, the last
/// run's result, duration, workflows, tasks, exports, requests, retries and 429s, and the job queue
/// depth per state, in the Prometheus text format, for node_exporter's textfile collector. Written
/// atomically after every run and job; computed from the run manifests and the queue, so it is
/// always whole and never holds a secret.
public enum MetricsFile {
    /// One metric family: name, help, type and its samples.
    struct Family {
        var name: String
        var help: String
        var type = "gauge"
        var samples: [(labels: [(String, String)], value: Double)] = []
    }

    /// Computes and writes the file (only when it changed).
    /// - Parameter customers: configured customer ids, listed even before their first run.
    @discardableResult
    public static func write(dataDirectory: DataDirectory, customers: [String] = [], queue: (any JobQueueing)? = nil) throws -> URL {
        let text = render(dataDirectory: dataDirectory, customers: customers, queue: queue)
        try FileManager.default.createDirectory(at: dataDirectory.metricsFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.writeIfChanged(Data(text.utf8), to: dataDirectory.metricsFile)
        return dataDirectory.metricsFile
    }

    /// The file's text.
    public static func render(dataDirectory: DataDirectory, customers configured: [String] = [], queue jobQueue: (any JobQueueing)? = nil) -> String {
        let manifests = dataDirectory.manifests()   // newest first
        var lastRun: [String: CustomerResult] = [:]
        var lastSuccess: [String: Date] = [:]
        var lastSucceeded: [String: CustomerResult] = [:]
        for manifest in manifests where !manifest.options.dryRun {
            for result in manifest.results where result.status != .pending {
                if lastRun[result.customer] == nil { lastRun[result.customer] = result }
                if result.status == .succeeded, lastSuccess[result.customer] == nil {
                    lastSucceeded[result.customer] = result
                    lastSuccess[result.customer] = result.finishedAt ?? manifest.finishedAt ?? manifest.startedAt
                }
            }
        }
        let customers = Set(configured).union(lastRun.keys).sorted()

        var families: [Family] = []
        func family(_ name: String, _ help: String, _ value: (String, CustomerResult) -> Double?) {
            var item = Family(name: name, help: help)
            for customer in customers {
                guard let result = lastRun[customer], let number = value(customer, result) else { continue }
                item.samples.append(([("customer", customer)], number))
            }
            families.append(item)
        }
        var success = Family(name: "zuora_sync_last_success_timestamp_seconds",
                             help: "Unix time when the customer's last successful sync finished.")
        for customer in customers {
            if let date = lastSuccess[customer] { success.samples.append(([("customer", customer)], date.timeIntervalSince1970.rounded(.down))) }
        }
        families.append(success)
        family("zuora_sync_last_run_success", "1 when the customer's last run succeeded, 0 when it failed or was interrupted.") { _, result in
            result.status == .succeeded ? 1 : 0
        }
        var status = Family(name: "zuora_sync_last_run_status", help: "The customer's last run result: 1 for the status it ended with.")
        for customer in customers {
            guard let result = lastRun[customer] else { continue }
            for state in [RunStatus.succeeded, .failed, .interrupted] {
                status.samples.append(([("customer", customer), ("status", state.rawValue)], result.status == state ? 1 : 0))
            }
        }
        families.append(status)
        family("zuora_sync_last_run_duration_seconds", "How long the customer's last run took.") { _, result in
            guard let started = result.startedAt, let finished = result.finishedAt else { return nil }
            return (finished.timeIntervalSince(started) * 1000).rounded() / 1000
        }
        family("zuora_sync_workflows", "Workflows stored for the customer after its last successful run.") { customer, _ in
            lastSucceeded[customer]?.summary.map { Double($0.workflows) }
        }
        family("zuora_sync_tasks", "Tasks stored for the customer after its last successful run.") { customer, _ in
            lastSucceeded[customer]?.summary.map { Double($0.tasks) }
        }
        var exports = Family(name: "zuora_sync_last_run_exports", help: "Exports in the customer's last run by outcome: downloaded, skipped (unchanged), failed.")
        for customer in customers {
            guard let counts = lastRun[customer]?.summary?.stageCounts["download-exports"] else { continue }
            for (outcome, key) in [("downloaded", "downloaded"), ("skipped", "unchanged"), ("failed", "failed")] {
                exports.samples.append(([("customer", customer), ("outcome", outcome)], Double(counts[key] ?? 0)))
            }
        }
        families.append(exports)
        family("zuora_sync_last_run_requests", "Zuora API requests sent in the customer's last run (every attempt).") { _, result in
            result.summary.map { Double($0.requests.requests) }
        }
        family("zuora_sync_last_run_retries", "Zuora API calls retried in the customer's last run.") { _, result in
            result.summary.map { Double($0.requests.retries) }
        }
        family("zuora_sync_last_run_rate_limited", "HTTP 429 responses in the customer's last run.") { _, result in
            result.summary.map { Double($0.requests.rateLimited) }
        }
        var queue = Family(name: "zuora_sync_queue_jobs", help: "Jobs in the queue by state.")
        // With a PostgreSQL store the queue is its jobs table (shared by every host).
        let shared = jobQueue.map { Dictionary(grouping: $0.jobs(in: nil), by: \.state) }
        for state in Job.State.allCases {
            let folder = dataDirectory.jobs.appendingPathComponent(state.rawValue, isDirectory: true)
            let count = shared.map { $0[state]?.count ?? 0 }
                ?? ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".json") }.count
            queue.samples.append(([("state", state.rawValue)], Double(count)))
        }
        families.append(queue)

        var text = ""
        for item in families {
            text += "# HELP \(item.name) \(item.help)\n# TYPE \(item.name) \(item.type)\n"
            for sample in item.samples {
                let labels = sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                text += "\(item.name){\(labels)} \(format(sample.value))\n"
            }
        }
        return text
    }

    /// A label value with `\`, `"` and newlines escaped, as the text format requires.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
