import Foundation
import Logging
import ZuoraSyncCore
import ZuoraSyncHTTP

/// The one retry loop of every Zuora call (token, list, export): transport failures and the
/// retryable statuses (429, 500, 502, 503, 504) are tried again with exponential backoff and full
/// jitter, or after `Retry-After` when Zuora sends one; a `Retry-After` longer than
/// `retry.max_retry_after` stops with `rateLimited`. Callers decide what other statuses mean.
public struct RetryLoop: Sendable {
    /// What a caller makes of a response.
    public enum Verdict: Sendable {
        /// The response is the answer.
        case accept
        /// Try again under the retry policy (counts as an attempt).
        case retry
        /// Send again at once without counting an attempt (after refreshing a token).
        case repeatNow
        /// Stop with this error.
        case fail(any Error & Sendable)
    }

    public var policy: RetryPolicy
    public var clock: any WallClock
    public var logger: Logger
    /// Told about each request, retry and `Retry-After` wait (run events, request counts).
    public var events: EventReporter?

    public init(policy: RetryPolicy, clock: any WallClock, logger: Logger, events: EventReporter? = nil) {
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.events = events
    }

    /// The default reading of a status: 2xx accepted, the retryable ones retried, others failed.
    public static func defaultVerdict(_ response: HTTPResponse, call: String) -> Verdict {
        switch response.status {
        case 200..<300: return .accept
        case let status where RetryPolicy.isRetryable(status: status): return .retry
        default:
            return .fail(ZuoraError(kind: .httpStatus, call: call, status: response.status,
                                    message: ZuoraError.message(fromBody: response.body, status: response.status),
                                    zuoraRequestID: response.header("Zuora-Request-Id")))
        }
    }

    /// Sends until a response is accepted, the caller fails it, or the policy gives up.
    /// - Parameters:
    ///   - call: the call for messages, e.g. `GET /workflows?page=2` (no host, no token).
    ///   - secrets: removed from every message this loop produces.
    ///   - send: one attempt (numbered from 1).
    ///   - judge: what a response means; `nil` for the default reading.
    ///   - didHitRateLimit: told about each 429.
    public func perform(isolation: isolated (any Actor)? = #isolation, call: String, secrets: [String] = [],
                        send: (Int) async throws -> HTTPResponse,
                        judge: (HTTPResponse) async -> Verdict? = { _ in nil },
                        didHitRateLimit: () async -> Void = {}) async throws -> HTTPResponse {
        let maxAttempts = policy.settings.maxAttempts
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let started = clock.now()
            let response: HTTPResponse
            events?.countRequest()
            do {
                response = try await send(attempt)
            } catch let error as HTTPTransportError {
                logger.warning("zuora.request.failed", metadata: [
                    "call": "\(call)", "attempt": "\(attempt)", "error": "\(redact(error.description, secrets: secrets))",
                    "duration_ms": "\(Int(clock.now().timeIntervalSince(started) * 1000))",
                ])
                guard error.isRetryable, attempt < maxAttempts else {
                    throw ZuoraError(kind: error.kind == .responseTooLarge ? .responseTooLarge : error.isRetryable ? .unavailable : .httpStatus, call: call,
                                     message: redact("no response after \(attempt) attempt(s): \(error)", secrets: secrets))
                }
                let wait = policy.backoff(afterAttempt: attempt)
                events?.retry(call: call, attempt: attempt, status: nil, message: redact(error.description, secrets: secrets), wait: wait)
                try await clock.sleep(seconds: wait)
                continue
            }
            CrashPoints.hit()
            let requestID = response.header("Zuora-Request-Id")
            logger.debug("zuora.request", metadata: [
                "call": "\(call)", "http.status": "\(response.status)", "attempt": "\(attempt)",
                "duration_ms": "\(Int(clock.now().timeIntervalSince(started) * 1000))", "zuora.request_id": "\(requestID ?? "-")",
            ])
            switch await judge(response) ?? Self.defaultVerdict(response, call: call) {
            case .accept:
                return response
            case .fail(let error):
                throw error
            case .repeatNow:
                attempt -= 1
            case .retry:
                let status = response.status
                if status == 429 { await didHitRateLimit() }
                let retryAfter = RetryPolicy.retryAfterSeconds(response.header("Retry-After"), now: clock.now())
                if let retryAfter, retryAfter > Double(policy.settings.maxRetryAfterSeconds) {
                    throw ZuoraError(kind: .rateLimited, call: call, status: status,
                                     message: "Zuora asked to wait \(Int(min(retryAfter, 1e9))) s (Retry-After), longer than retry.max_retry_after (\(policy.settings.maxRetryAfterSeconds) s)",
                                     zuoraRequestID: requestID)
                }
                guard attempt < maxAttempts else {
                    let text = redact(ZuoraError.message(fromBody: response.body, status: status), secrets: secrets)
                    throw ZuoraError(kind: status == 429 ? .rateLimited : .unavailable, call: call, status: status,
                                     message: "\(text) after \(attempt) attempts", zuoraRequestID: requestID)
                }
                let wait = retryAfter ?? policy.backoff(afterAttempt: attempt)
                logger.info("zuora.request.retry", metadata: [
                    "call": "\(call)", "http.status": "\(status)", "attempt": "\(attempt)", "wait_ms": "\(Int(wait * 1000))",
                ])
                events?.retry(call: call, attempt: attempt, status: status, message: nil, wait: wait)
                if let retryAfter { events?.wait(seconds: retryAfter, reason: "Retry-After from \(call)") }
                try await clock.sleep(seconds: wait)
            }
        }
    }
}
