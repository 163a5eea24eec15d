import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import ZuoraSyncEngine
import ZuoraSyncStages
import Logging

/// What a notification says about a job that failed for good. Never contains a secret: the error
/// text was redacted when the run recorded it.
public struct FailureNotice: Sendable, Codable, Equatable {
    /// Slack-compatible summary line.
    public var text: String
    public var customer: String
    public var pipeline: String
    public var error: String
    public var attempts: Int
    public var runID: String?
    public var jobID: String
}

/// Sends failure notices to a webhook and/or a command. A notification that fails is logged and
/// never fails the job.
public struct Notifier: Sendable {
    public var settings: NotificationSettings
    /// Sends the webhook; nil when there is none. By default a libcurl transport allowed to POST to
    /// the webhook URL and nowhere else.
    public var transport: (any HTTPTransport)?
    public var logger: Logger
    /// Times the notification command (real time by default).
    public var clock: any WallClock = SystemClock()

    public init(settings: NotificationSettings, transport: (any HTTPTransport)? = nil, logger: Logger) {
        self.settings = settings
        if let transport {
            self.transport = transport
        } else if let webhook = settings.webhook {
            var http = HTTPSettings()
            http.requestTimeout = settings.timeoutSeconds
            self.transport = CurlTransport(settings: http) { request in
                request.method == .post && request.url.absoluteString == webhook
            }
        }
        self.logger = logger
    }

    public func notify(_ notice: FailureNotice) async {
        if let webhook = settings.webhook, let url = URL(string: webhook), let transport {
            do {
                let body = try CanonicalJSON.encode(notice)
                let response = try await transport.send(HTTPRequest(method: .post, url: url, headers: [("Content-Type", "application/json")], body: body))
                if !(200..<300).contains(response.status) {
                    logger.error("notification.webhook.failed", metadata: ["http.status": "\(response.status)", "job": "\(notice.jobID)"])
                }
            } catch {
                logger.error("notification.webhook.failed", metadata: ["error": "\(error)", "job": "\(notice.jobID)"])
            }
        }
        if let command = settings.command {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            // A minimal environment: the worker's may hold customers' secrets (client_secret_env).
            let inherited = ProcessEnvironment.current()
            var environment = ["PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]
            for key in ["HOME", "LANG", "LC_ALL", "TZ"] { environment[key] = inherited[key] }
            environment["ZUORA_SYNC_CUSTOMER"] = notice.customer
            environment["ZUORA_SYNC_PIPELINE"] = notice.pipeline
            environment["ZUORA_SYNC_ERROR"] = notice.error
            environment["ZUORA_SYNC_ATTEMPTS"] = String(notice.attempts)
            environment["ZUORA_SYNC_RUN_ID"] = notice.runID ?? ""
            environment["ZUORA_SYNC_JOB_ID"] = notice.jobID
            environment["ZUORA_SYNC_TEXT"] = notice.text
            process.environment = environment
            do {
                let exited = ProcessExit()
                // The handler is set before the process starts, so its exit cannot be missed.
                process.terminationHandler = { _ in exited.signal() }
                try process.run()
                for _ in 0..<(settings.timeoutSeconds * 10) where process.isRunning {
                    try? await clock.sleep(seconds: 0.1)
                }
                if process.isRunning {
                    // Stopped, so a hanging command never blocks the worker.
                    process.terminate()
                    try? await clock.sleep(seconds: 1)
                    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                    logger.error("notification.command.timed_out", metadata: ["timeout_s": "\(settings.timeoutSeconds)", "job": "\(notice.jobID)"])
                    await exited.wait()
                } else if process.terminationStatus != 0 {
                    logger.error("notification.command.failed", metadata: ["status": "\(process.terminationStatus)", "job": "\(notice.jobID)"])
                }
            } catch {
                logger.error("notification.command.failed", metadata: ["error": "\(error)", "job": "\(notice.jobID)"])
            }
        }
    }
}

/// The exit of a child process, awaited without blocking a cooperative thread.
final class ProcessExit: @unchecked Sendable {
    // @unchecked: `hasExited` and `waiters` are only touched under `lock`.
    private let lock = NSLock()
    private var hasExited = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func signal() {
        let pending = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            hasExited = true
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in pending { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Bool in
                if hasExited { return true }
                waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
