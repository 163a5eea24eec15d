import Foundation
import Logging

/// One customer's read-only Zuora client: `GET /workflows` and `GET /workflows/{id}/export`, with
/// bearer tokens, one token refresh on 401, retries with backoff and `Retry-After`, and a
/// per-customer concurrency limit that adapts to 429s. It can send nothing else.
public final class ZuoraClient: Sendable {
    public let customer: CustomerConfig
    public let tokens: TokenProvider
    public let limiter: ConcurrencyLimiter
    private let transport: any HTTPTransport
    private let policy: RetryPolicy
    private let clock: any WallClock
    private let logger: Logger

    public init(customer: CustomerConfig, tokens: TokenProvider, transport: any HTTPTransport, policy: RetryPolicy,
                concurrency: Int, clock: any WallClock, logger: Logger) {
        self.customer = customer
        self.tokens = tokens
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self.logger = logger
        limiter = ConcurrencyLimiter(maximum: concurrency, clock: clock)
    }

    /// A fresh `Zuora-Track-Id` (ASCII, under 64 characters).
    public static func newTrackID() -> String {
        "zuora-sync-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// One page of the workflow list (200 only).
    public func listWorkflows(page: Int, pageLength: Int) async throws -> HTTPResponse {
        try await get(path: "/workflows", query: "page=\(page)&page_length=\(pageLength)")
    }

    /// The export of one workflow's active version (200 only).
    public func exportWorkflow(id: Int64) async throws -> HTTPResponse {
        try await get(path: "/workflows/\(id)/export", query: nil)
    }

    private func get(path: String, query: String?) async throws -> HTTPResponse {
        let call = "GET \(path)" + (query.map { "?\($0)" } ?? "")
        let url = URL(string: customer.baseURL.absoluteString + path + (query.map { "?\($0)" } ?? ""))!
        var attempt = 0
        var refreshedToken = false
        while true {
            attempt += 1
            try Task.checkCancellation()
            let token = try await tokens.token()
            var headers: [(name: String, value: String)] = [
                ("Authorization", "Bearer \(token.value)"), ("Accept", "application/json"),
                ("Accept-Encoding", "gzip"), ("Zuora-Track-Id", Self.newTrackID()),
            ]
            if let entities = customer.entityIDs { headers.append(("Zuora-Entity-Ids", entities)) }
            let request = HTTPRequest(method: .get, url: url, headers: headers)

            try await limiter.acquire()
            let started = clock.now()
            let outcome: Result<HTTPResponse, HTTPTransportError>
            do {
                outcome = .success(try await transport.send(request))
            } catch let error as HTTPTransportError {
                outcome = .failure(error)
            } catch {
                await limiter.release()
                throw error
            }
            await limiter.release()
            let elapsed = Int(clock.now().timeIntervalSince(started) * 1000)

            let response: HTTPResponse
            switch outcome {
            case .failure(let error):
                logger.warning("zuora.request.failed", metadata: [
                    "customer": "\(customer.id)", "http.method": "GET", "http.path": "\(path)", "attempt": "\(attempt)",
                    "error": "\(error)", "duration_ms": "\(elapsed)",
                ])
                guard error.isRetryable, attempt < policy.settings.maxAttempts else {
                    throw ZuoraError(kind: error.isRetryable ? .unavailable : .httpStatus, call: call,
                                     message: "no response after \(attempt) attempt(s): \(error)")
                }
                try await clock.sleep(seconds: policy.backoff(afterAttempt: attempt))
                continue
            case .success(let value):
                response = value
            }
            let requestID = response.header("Zuora-Request-Id")
            logger.debug("zuora.request", metadata: [
                "customer": "\(customer.id)", "http.method": "GET", "http.path": "\(path)", "http.status": "\(response.status)",
                "attempt": "\(attempt)", "duration_ms": "\(elapsed)", "zuora.request_id": "\(requestID ?? "-")",
            ])
            await limiter.observe(remaining: response.header("RateLimit-Remaining"), reset: response.header("RateLimit-Reset"))

            switch response.status {
            case 200..<300:
                await limiter.didSucceed()
                return response
            case 401 where !refreshedToken:
                refreshedToken = true
                attempt -= 1 // a token refresh is not a retry of the call
                await tokens.invalidate(token)
                continue
            case 401:
                throw ZuoraError(kind: .unauthorized, call: call, status: 401,
                                 message: ZuoraError.message(fromBody: response.body, status: 401), zuoraRequestID: requestID)
            case let status where RetryPolicy.isRetryable(status: status):
                if status == 429 { await limiter.didHitRateLimit() }
                let retryAfter = RetryPolicy.retryAfterSeconds(response.header("Retry-After"), now: clock.now())
                if let retryAfter, retryAfter > Double(policy.settings.maxRetryAfterSeconds) {
                    throw ZuoraError(kind: .rateLimited, call: call, status: status,
                                     message: "Zuora asked to wait \(Int(retryAfter)) s (Retry-After)", zuoraRequestID: requestID)
                }
                guard attempt < policy.settings.maxAttempts else {
                    throw ZuoraError(kind: status == 429 ? .rateLimited : .unavailable, call: call, status: status,
                                     message: "\(ZuoraError.message(fromBody: response.body, status: status)) after \(attempt) attempts",
                                     zuoraRequestID: requestID)
                }
                let wait = retryAfter ?? policy.backoff(afterAttempt: attempt)
                logger.info("zuora.request.retry", metadata: [
                    "customer": "\(customer.id)", "http.path": "\(path)", "http.status": "\(status)", "attempt": "\(attempt)",
                    "wait_s": "\(String(format: "%.3f", wait))",
                ])
                try await clock.sleep(seconds: wait)
            default:
                throw ZuoraError(kind: .httpStatus, call: call, status: response.status,
                                 message: ZuoraError.message(fromBody: response.body, status: response.status), zuoraRequestID: requestID)
            }
        }
    }
}
