import Foundation
import Yams

/// Loads and checks a pipeline file. Every rejection is a `ConfigurationError` naming the file,
/// the line and the key path.
public enum PipelineLoader {
    public static func load(path: String) throws -> PipelineDefinition {
        try parse(document: YAMLDocument.load(path: path))
    }

    public static func parse(text: String, file: String) throws -> PipelineDefinition {
        try parse(document: YAMLDocument(text: text, file: file))
    }

    static func parse(document: YAMLDocument) throws -> PipelineDefinition {
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
                guard let url = URL(string: webhook), url.host != nil, BaseURLRules.problem(with: url) == nil, url.scheme != FixtureTransport.scheme else {
                    throw section.error("webhook", "'\(webhook)' must be an https URL (or http to loopback).")
                }
                notifications.webhook = webhook
            }
            notifications.command = try section.string("command")
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
            guard let kind = StageKind(rawValue: kindText) else {
                throw entry.error("kind", "unknown stage kind '\(kindText)'." + Suggestion.hint(for: kindText, in: StageKind.allCases.map(\.rawValue)))
            }
            var stage = StageDefinition(id: id, kind: kind)
            switch kind {
            case .fetchWorkflowPages:
                stage.pageSize = try entry.int("page_size", default: 50, range: 1...50)
                stage.maxPages = try entry.int("max_pages", default: 1000, range: 1...100_000)
            case .downloadExports:
                stage.concurrency = try entry.int("concurrency", default: 8, range: 1...40)
                stage.fullEveryHours = try entry.int("full_every_hours", default: 24, range: 0...8760)
            case .cleanupObsolete:
                stage.maxDeleteFraction = try entry.double("max_delete_fraction", default: 0.5, range: 0...1)
                stage.maxDeleteCount = try entry.int("max_delete_count", default: 100, range: 0...1_000_000)
            default:
                break
            }
            try entry.rejectUnknownKeys()
            if let previous = stages.firstIndex(where: { $0.id == id }) {
                throw entry.error("id", "stage id '\(id)' is used twice (also at \(stageNodes[previous].1)); ids must be unique.")
            }
            if stages.contains(where: { $0.kind == kind }) {
                throw entry.error("kind", "a pipeline may have one '\(kind.rawValue)' stage; this is the second.")
            }
            if let last = stages.last, last.kind.rank > kind.rank {
                throw entry.error("kind", "'\(kind.rawValue)' cannot come after '\(last.kind.rawValue)'. The order is: "
                    + StageKind.allCases.map(\.rawValue).joined(separator: " → ") + ".")
            }
            for needed in kind.requirements where !stages.contains(where: { $0.kind == needed }) {
                throw entry.error("kind", "'\(kind.rawValue)' needs the output of a '\(needed.rawValue)' stage before it; add one.")
            }
            stages.append(stage)
        }
        return PipelineDefinition(name: name, schedule: schedule, customerConcurrency: customerConcurrency,
                                  http: http, retry: retry, jobs: jobs, notifications: notifications, stages: stages)
    }
}
