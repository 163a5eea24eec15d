import Foundation

/// A pipeline as read from `pipelines/*.yaml`: stages in order and the settings that apply to the
/// whole run. Every field documents the YAML key it comes from.
public struct PipelineDefinition: Sendable, Codable, Equatable {
    /// `name`: shown in run listings. Default: the file name without extension.
    public var name: String
    /// `schedule`: cron expression for the scheduler. Default `0 * * * *` (hourly).
    public var schedule: String
    /// `customer_concurrency`: customers synced at once. Default 4, 1...32.
    public var customerConcurrency: Int
    /// `http`: timeouts.
    public var http: HTTPSettings
    /// `retry`: retry policy of every Zuora call.
    public var retry: RetrySettings
    /// `jobs`: attempts and waits of queued jobs.
    public var jobs: JobSettings
    /// `notifications`: what to do when a job fails for good.
    public var notifications: NotificationSettings = NotificationSettings()
    /// `client`: how each customer's Zuora client talks to its tenant (shared by every stage).
    public var client: ClientSettings = ClientSettings()
    /// `retention`: which run directories are kept (applied after each run).
    public var retention: RetentionSettings = RetentionSettings()
    /// `stages`: the chain.
    public var stages: [StageDefinition]

    public init(name: String, schedule: String = "0 * * * *", customerConcurrency: Int = 4, http: HTTPSettings = HTTPSettings(),
                retry: RetrySettings = RetrySettings(), jobs: JobSettings = JobSettings(),
                notifications: NotificationSettings = NotificationSettings(), client: ClientSettings = ClientSettings(),
                stages: [StageDefinition], retention: RetentionSettings = RetentionSettings()) {
        self.retention = retention
        self.name = name
        self.schedule = schedule
        self.customerConcurrency = customerConcurrency
        self.http = http
        self.retry = retry
        self.jobs = jobs
        self.notifications = notifications
        self.client = client
        self.stages = stages
    }

    /// Decodes with defaults for keys an older tool did not write (a run directory from before a
    /// setting existed still resumes).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule) ?? "0 * * * *"
        customerConcurrency = try c.decodeIfPresent(Int.self, forKey: .customerConcurrency) ?? 4
        http = try c.decodeIfPresent(HTTPSettings.self, forKey: .http) ?? HTTPSettings()
        retry = try c.decodeIfPresent(RetrySettings.self, forKey: .retry) ?? RetrySettings()
        jobs = try c.decodeIfPresent(JobSettings.self, forKey: .jobs) ?? JobSettings()
        notifications = try c.decodeIfPresent(NotificationSettings.self, forKey: .notifications) ?? NotificationSettings()
        client = try c.decodeIfPresent(ClientSettings.self, forKey: .client) ?? ClientSettings()
        retention = try c.decodeIfPresent(RetentionSettings.self, forKey: .retention) ?? RetentionSettings()
        stages = try c.decode([StageDefinition].self, forKey: .stages)
    }

    /// The first stage of a kind, by the kind's name.
    public func stage(kind: String) -> StageDefinition? { stages.first { $0.kind == kind } }
}

/// `retention:` which run directories `runs/<id>/` are kept. A run is kept when it is among the
/// newest `keep_last`, or started within `keep_days`, or is a customer's last successful or last
/// failed run, or is unfinished (it may still be resumed). The others are pruned after each run
/// (and by `zuora-sync runs prune`); `zuora-sync gc` then removes objects nothing refers to.
public struct RetentionSettings: Sendable, Codable, Equatable {
    /// `keep_last`: the newest runs always kept. Default 48, 1...100000.
    public var keepLast: Int = 48
    /// `keep_days`: runs started within this many days are kept. Default 7, 0...3650.
    public var keepDays: Int = 7
    /// `prune_after_run`: apply the policy after every run. Default true.
    public var pruneAfterRun: Bool = true

    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keepLast = try c.decodeIfPresent(Int.self, forKey: .keepLast) ?? 48
        keepDays = try c.decodeIfPresent(Int.self, forKey: .keepDays) ?? 7
        pruneAfterRun = try c.decodeIfPresent(Bool.self, forKey: .pruneAfterRun) ?? true
    }
}

/// `client:` the customer's Zuora client, used by every stage that calls Zuora.
public struct ClientSettings: Sendable, Codable, Equatable {
    /// `concurrency`: requests in flight per tenant (listing and exports together), adaptive below
    /// this ceiling. Default 8, 1...40 (Zuora allows 40 per tenant).
    public var concurrency: Int = 8
    public init(concurrency: Int = 8) { self.concurrency = concurrency }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? 8
    }
}

/// `http:` timeouts, in seconds.
public struct HTTPSettings: Sendable, Codable, Equatable {
    /// `connect_timeout`: TCP+TLS connect. Default 10.
    public var connectTimeout: Int = 10
    /// `request_timeout`: a whole request. Default 120.
    public var requestTimeout: Int = 120
    /// `low_speed_time`: abort a body that moves under 1 byte/s for this long. Default 30.
    public var lowSpeedTime: Int = 30
    /// `max_export_mb`: the largest export body (after decompression). Larger: a per-workflow
    /// warning, the stored copy stays. Default 50, 1...2048.
    public var maxExportMegabytes: Int = 50
    /// `max_page_mb`: the largest list page body. Default 20, 1...2048.
    public var maxPageMegabytes: Int = 20
    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        connectTimeout = try c.decodeIfPresent(type(of: connectTimeout).self, forKey: .connectTimeout) ?? connectTimeout
        requestTimeout = try c.decodeIfPresent(type(of: requestTimeout).self, forKey: .requestTimeout) ?? requestTimeout
        lowSpeedTime = try c.decodeIfPresent(type(of: lowSpeedTime).self, forKey: .lowSpeedTime) ?? lowSpeedTime
        maxExportMegabytes = try c.decodeIfPresent(Int.self, forKey: .maxExportMegabytes) ?? maxExportMegabytes
        maxPageMegabytes = try c.decodeIfPresent(Int.self, forKey: .maxPageMegabytes) ?? maxPageMegabytes
    }
}

/// `retry:` how Zuora calls are retried (timeouts, connection errors, 429, 500, 502, 503, 504).
public struct RetrySettings: Sendable, Codable, Equatable {
    /// `max_attempts`: tries per call, the first included. Default 5.
    public var maxAttempts: Int = 5
    /// `base_delay_ms`: first backoff ceiling; doubles each try, full jitter. Default 500.
    public var baseDelayMilliseconds: Int = 500
    /// `max_delay_ms`: backoff cap. Default 30000.
    public var maxDelayMilliseconds: Int = 30_000
    /// `max_retry_after`: the longest `Retry-After` (seconds) honoured before the customer stops
    /// with "rate limited". Default 300.
    public var maxRetryAfterSeconds: Int = 300
    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try c.decodeIfPresent(type(of: maxAttempts).self, forKey: .maxAttempts) ?? maxAttempts
        baseDelayMilliseconds = try c.decodeIfPresent(type(of: baseDelayMilliseconds).self, forKey: .baseDelayMilliseconds) ?? baseDelayMilliseconds
        maxDelayMilliseconds = try c.decodeIfPresent(type(of: maxDelayMilliseconds).self, forKey: .maxDelayMilliseconds) ?? maxDelayMilliseconds
        maxRetryAfterSeconds = try c.decodeIfPresent(type(of: maxRetryAfterSeconds).self, forKey: .maxRetryAfterSeconds) ?? maxRetryAfterSeconds
    }
}

/// `notifications:` run when a queued job fails for good (attempts used up or not retryable).
public struct NotificationSettings: Sendable, Codable, Equatable {
    /// `webhook`: URL to POST a JSON payload to (Slack-compatible `text` field); https, or http to loopback.
    public var webhook: String?
    /// `command`: run with `/bin/sh -c`, the same data in `ZUORA_SYNC_*` environment variables.
    public var command: String?
    /// `timeout`: seconds a notification (webhook or command) may take before it is abandoned
    /// (the command is stopped). Default 30, 1...600.
    public var timeoutSeconds: Int = 30
    public init(webhook: String? = nil, command: String? = nil, timeoutSeconds: Int = 30) {
        self.webhook = webhook
        self.command = command
        self.timeoutSeconds = timeoutSeconds
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        webhook = try c.decodeIfPresent(String.self, forKey: .webhook)
        command = try c.decodeIfPresent(String.self, forKey: .command)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 30
    }
}

/// `jobs:` queued job attempts (the original tool: 3 attempts, waits of 60 s then 120 s).
public struct JobSettings: Sendable, Codable, Equatable {
    /// `max_attempts`. Default 3.
    public var maxAttempts: Int = 3
    /// `retry_delays`: seconds before the 2nd, 3rd, ... attempt. Default [60, 120].
    public var retryDelays: [Int] = [60, 120]
    /// `lease_seconds`: a running job whose worker has not heartbeated for this long is taken back. Default 120.
    public var leaseSeconds: Int = 120
    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try c.decodeIfPresent(type(of: maxAttempts).self, forKey: .maxAttempts) ?? maxAttempts
        retryDelays = try c.decodeIfPresent(type(of: retryDelays).self, forKey: .retryDelays) ?? retryDelays
        leaseSeconds = try c.decodeIfPresent(type(of: leaseSeconds).self, forKey: .leaseSeconds) ?? leaseSeconds
    }
}
