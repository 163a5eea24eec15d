import Foundation
import Yams
import ZuoraSyncCore

/// Loads and checks a pipeline file. Every rejection is a `ConfigurationError` naming the file,
/// the line and the key path.
/// Stage entries are read by their kind's own `Settings` (from the registry); this loader names
/// no kind.
public enum PipelineLoader {
    public static func load(path: String, registry: StageRegistry) throws -> PipelineDefinition {
        try parse(document: YAMLDocument.load(path: path), registry: registry)
    }

    public static func parse(text: String, file: String, registry: StageRegistry) throws -> PipelineDefinition {
        try parse(document: YAMLDocument(text: text, file: file), registry: registry)
    }

    static func parse(document: YAMLDocument, registry: StageRegistry) throws -> PipelineDefinition {
        let top = try document.mapping(document.root, path: "")
        // The only format so far; a file from a newer tool is rejected here rather than misread.
        _ = try top.int("format_version", default: 1, range: 1...1)
        let defaultName = URL(fileURLWithPath: document.file).deletingPathExtension().lastPathComponent
        let name = try top.string("name") ?? defaultName
        let schedule = try top.string("schedule") ?? "0 * * * *"
        do { _ = try CronSchedule(schedule) } catch let error as CronSchedule.ParseError {
            throw top.error("schedule", "\(error.message). Use five fields, e.g. \"0 * * * *\" for hourly.")
        }
        let customerConcurrency = try top.int("customer_concurrency", default: 4, range: 1...32)

        var http = HTTPSettings()
        if let section = try top.submapping("http") {
            http.connectTimeout = try section.int("connect_timeout", default: http.connectTimeout, range: 1...300)
            http.requestTimeout = try section.int("request_timeout", default: http.requestTimeout, range: 1...3600)
            http.lowSpeedTime = try section.int("low_speed_time", default: http.lowSpeedTime, range: 1...3600)
            http.maxExportMegabytes = try section.int("max_export_mb", default: http.maxExportMegabytes, range: 1...2048)
            http.maxPageMegabytes = try section.int("max_page_mb", default: http.maxPageMegabytes, range: 1...2048)
            try section.rejectUnknownKeys()
        }
        var retry = RetrySettings()
        if let section = try top.submapping("retry") {
            retry.maxAttempts = try section.int("max_attempts", default: retry.maxAttempts, range: 1...20)
            retry.baseDelayMilliseconds = try section.int("base_delay_ms", default: retry.baseDelayMilliseconds, range: 0...60_000)
            retry.maxDelayMilliseconds = try section.int("max_delay_ms", default: retry.maxDelayMilliseconds, range: 0...600_000)
            retry.maxRetryAfterSeconds = try section.int("max_retry_after", default: retry.maxRetryAfterSeconds, range: 0...86_400)
            try section.rejectUnknownKeys()
        }
        var jobs = JobSettings()
        if let section = try top.submapping("jobs") {
            jobs.maxAttempts = try section.int("max_attempts", default: jobs.maxAttempts, range: 1...20)
            if let delays = try section.sequence("retry_delays") {
                jobs.retryDelays = try delays.map { node, path in
                    guard let value = node.int, value >= 0 else { throw document.error(node, path, "expected a number of seconds (0 or more).") }
                    return value
                }
            }
            jobs.leaseSeconds = try section.int("lease_seconds", default: jobs.leaseSeconds, range: 2...86_400)
            try section.rejectUnknownKeys()
        }
        var notifications = NotificationSettings()
        if let section = try top.submapping("notifications") {
            if let webhook = try section.string("webhook") {
                guard let url = URL(string: webhook), url.host != nil, BaseURLRules.problem(with: url) == nil, url.scheme != BaseURLRules.fixtureScheme else {
                    throw section.error("webhook", "'\(webhook)' must be an https URL (or http to loopback).")
                }
                notifications.webhook = webhook
            }
            notifications.command = try section.string("command")
            notifications.timeoutSeconds = try section.int("timeout", default: notifications.timeoutSeconds, range: 1...600)
            try section.rejectUnknownKeys()
        }

        var client = ClientSettings()
        if let section = try top.submapping("client") {
            client.concurrency = try section.int("concurrency", default: client.concurrency, range: 1...40)
            try section.rejectUnknownKeys()
        }

        var retention = RetentionSettings()
        if let section = try top.submapping("retention") {
            retention.keepLast = try section.int("keep_last", default: retention.keepLast, range: 1...100_000)
            retention.keepDays = try section.int("keep_days", default: retention.keepDays, range: 0...3650)
            retention.pruneAfterRun = try section.bool("prune_after_run", default: retention.pruneAfterRun)
            try section.rejectUnknownKeys()
        }

        guard let stageNodes = try top.sequence("stages") else {
            throw ConfigurationError(file: document.file, line: top.line, keyPath: "stages", message: "is required: list the stages in order.")
        }
        try top.rejectUnknownKeys()
        guard !stageNodes.isEmpty else {
            throw ConfigurationError(file: document.file, line: top.lineOf("stages"), keyPath: "stages", message: "lists no stage.")
        }

        var stages: [StageDefinition] = []
        for (node, path) in stageNodes {
            let entry = try document.mapping(node, path: path)
            let id = try entry.requiredString("id")
            guard SafeIdentifier.isValidCustomerID(id) else {
                throw entry.error("id", "'\(id)' is not a valid stage id; use lower-case letters, digits and '-'.")
            }
            let kindText = try entry.requiredString("kind")
            guard let kind = registry.kind(named: kindText) else {
                throw entry.error("kind", "unknown stage kind '\(kindText)'." + Suggestion.hint(for: kindText, in: registry.names))
            }
            let settings = try kind.settings(from: entry)
            try entry.rejectUnknownKeys()
            if let previous = stages.firstIndex(where: { $0.id == id }) {
                throw entry.error("id", "stage id '\(id)' is used twice (also at \(stageNodes[previous].1)); ids must be unique.")
            }
            if stages.contains(where: { $0.kind == kind.name }) {
                throw entry.error("kind", "a pipeline may have one '\(kind.name)' stage; this is the second.")
            }
            for needed in kind.inputs where !stages.contains(where: { $0.kind == needed }) {
                throw entry.error("kind", "'\(kind.name)' needs the output of a '\(needed)' stage before it; add one"
                    + (stageNodes.contains { ($0.0.mapping?["kind"]?.string) == needed } ? " (it comes after '\(kind.name)' here; move it up)." : "."))
            }
            stages.append(StageDefinition(id: id, kind: kind.name, settings: settings))
        }
        return PipelineDefinition(name: name, schedule: schedule, customerConcurrency: customerConcurrency,
                                  http: http, retry: retry, jobs: jobs, notifications: notifications, client: client, stages: stages, retention: retention)
    }
}
