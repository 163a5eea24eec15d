import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
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
    private let limits: HTTPSettings
    private let events: EventReporter?

    public init(customer: CustomerConfig, tokens: TokenProvider, transport: any HTTPTransport, policy: RetryPolicy,
                concurrency: Int, clock: any WallClock, logger: Logger, limits: HTTPSettings = HTTPSettings(), events: EventReporter? = nil) {
        self.limits = limits
        self.events = events
        self.customer = customer
        self.tokens = tokens
        self.transport = transport
        self.policy = policy
        self.clock = clock
        self.logger = logger
        limiter = ConcurrencyLimiter(maximum: concurrency, clock: clock)
    }

    /// A fresh `Zuora-Track-Id` (ASCII, under 64 characters).
    func trackID() -> String { Self.newTrackID(random: policy.random) }

    /// A `Zuora-Track-Id` from `random`.
    public static func newTrackID(random: RandomSource) -> String { "zuora-sync-" + random.hex(digits: 16) }

    /// One page of the workflow list (200 only). It takes the next free request slot ahead of
    /// waiting exports: the exports of the pages still to come wait for it.
    public func listWorkflows(page: Int, pageLength: Int) async throws -> HTTPResponse {
        try await get(path: "/workflows", query: "page=\(page)&page_length=\(pageLength)", maxBytes: limits.maxPageMegabytes * 1_048_576,
                      urgency: .first)
    }

    /// The export of one workflow's active version (200 only).
    public func exportWorkflow(id: Int64) async throws -> HTTPResponse {
        try await get(path: "/workflows/\(id)/export", query: nil, maxBytes: limits.maxExportMegabytes * 1_048_576, urgency: .normal)
    }

    /// Sends a GET under the retry loop. Every message that leaves (errors, logs) has the token and
    /// the secret removed, even when Zuora's body echoes them.
    private func get(path: String, query: String?, maxBytes: Int, urgency: ConcurrencyLimiter.Urgency) async throws -> HTTPResponse {
        do {
            return try await send(path: path, query: query, maxBytes: maxBytes, urgency: urgency)
        } catch var error as ZuoraError {
            error.message = redact(error.message, secrets: await tokens.redactionSecrets())
            throw error
        }
    }

    private func send(path: String, query: String?, maxBytes: Int, urgency: ConcurrencyLimiter.Urgency) async throws -> HTTPResponse {
        let call = "GET \(path)" + (query.map { "?\($0)" } ?? "")
        let url = URL(string: customer.baseURL.absoluteString + path + (query.map { "?\($0)" } ?? ""))!
        var token: AccessToken?
        var refreshedToken = false
        let loop = RetryLoop(policy: policy, clock: clock, logger: logger, events: events)
        return try await loop.perform(call: call, send: { _ in
            let current = try await tokens.token()
            token = current
            var headers: [(name: String, value: String)] = [
                ("Authorization", "Bearer \(current.value)"), ("Accept", "application/json"),
                ("Accept-Encoding", "gzip"), ("Zuora-Track-Id", trackID()),
            ]
            if let entities = customer.entityIDs { headers.append(("Zuora-Entity-Ids", entities)) }
            try await limiter.acquire(urgency)
            do {
                var request = HTTPRequest(method: .get, url: url, headers: headers)
                request.maxResponseBytes = maxBytes
                let response = try await transport.send(request)
                // The pause first: the slot goes straight to a waiting request, which must see it.
                if let pause = await limiter.observe(remaining: response.header("RateLimit-Remaining"), reset: response.header("RateLimit-Reset")) {
                    events?.wait(seconds: pause, reason: "RateLimit-Remaining 0 on \(call)")
                }
                await limiter.release()
                return response
            } catch {
                await limiter.release()
                throw error
            }
        }, judge: { response in
            switch response.status {
            case 200..<300:
                await limiter.didSucceed()
                return .accept
            case 401 where !refreshedToken:
                // A token refresh is not a retry of the call.
                refreshedToken = true
                if let token { await tokens.invalidate(token) }
                return .repeatNow
            case 401:
                return .fail(ZuoraError(kind: .unauthorized, call: call, status: 401,
                                        message: ZuoraError.message(fromBody: response.body, status: 401),
                                        zuoraRequestID: response.header("Zuora-Request-Id")))
            default:
                return nil
            }
        }, didHitRateLimit: { await limiter.didHitRateLimit() })
    }
}
