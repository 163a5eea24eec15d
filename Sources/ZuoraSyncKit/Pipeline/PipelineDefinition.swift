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
    /// `stages`: the chain.
    public var stages: [StageDefinition]

    public func stage(_ kind: StageKind) -> StageDefinition? { stages.first { $0.kind == kind } }
}

/// One stage of a pipeline: `id`, `kind` and the kind's settings.
public struct StageDefinition: Sendable, Codable, Equatable {
    /// `id`: a unique slug, used in the run directory (`NN-<id>`).
    public var id: String
    /// `kind`: one of `StageKind`.
    public var kind: StageKind
    /// fetch-workflow-pages `page_size`: workflows per list call. Default 50, 1...50 (Zuora's maximum).
    public var pageSize: Int = 50
    /// fetch-workflow-pages `max_pages`: safety cap on list calls. Default 1000.
    public var maxPages: Int = 1000
    /// download-exports `concurrency`: exports in flight per customer. Default 8, 1...40.
    public var concurrency: Int = 8
    /// download-exports `full_every_hours`: download every export, changed or not, when the last
    /// full pass is older than this. Default 24; 0 means every run.
    public var fullEveryHours: Int = 24
    /// cleanup-obsolete `max_delete_fraction`: refuse to delete more than this share. Default 0.5.
    public var maxDeleteFraction: Double = 0.5
    /// cleanup-obsolete `max_delete_count`: refuse to delete more than this many. Default 100.
    public var maxDeleteCount: Int = 100

    public init(id: String, kind: StageKind) {
        self.id = id
        self.kind = kind
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
    public init() {}
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
}

/// `notifications:` run when a queued job fails for good (attempts used up or not retryable).
public struct NotificationSettings: Sendable, Codable, Equatable {
    /// `webhook`: URL to POST a JSON payload to (Slack-compatible `text` field); https, or http to loopback.
    public var webhook: String?
    /// `command`: run with `/bin/sh -c`, the same data in `ZUORA_SYNC_*` environment variables.
    public var command: String?
    public init(webhook: String? = nil, command: String? = nil) {
        self.webhook = webhook
        self.command = command
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
}
