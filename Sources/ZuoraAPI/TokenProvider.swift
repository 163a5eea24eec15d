import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import Logging

/// Gets and reuses one customer's client-credentials token: from memory, then the shared cache,
/// then `POST /oauth/token`. Concurrent callers share one refresh.
public actor TokenProvider {
    private let customer: CustomerConfig
    private let secret: String
    private let transport: any HTTPTransport
    private let clock: any WallClock
    private let cache: TokenCache?
    private let policy: RetryPolicy
    private let logger: Logger
    private var current: AccessToken?
    /// Tokens obtained so far (for redaction).
    private var issued: [String] = []
    private var refresh: Task<AccessToken, any Error>?
    /// How many token requests this provider sent (for tests and the run summary).
    public private(set) var requestCount = 0
    /// Whether the last token came from the shared cache.
    public private(set) var lastTokenWasCached = false

    public init(customer: CustomerConfig, secret: String, transport: any HTTPTransport, clock: any WallClock,
                cache: TokenCache?, policy: RetryPolicy, logger: Logger) {
        self.customer = customer
        self.secret = secret
        self.transport = transport
        self.clock = clock
        self.cache = cache
        self.policy = policy
        self.logger = logger
    }

    /// A token usable now.
    public func token() async throws -> AccessToken {
        if let current, current.isUsable(at: clock.now()) { return current }
        if let refresh { return try await refresh.value }
        if let cached = cache?.load(baseURL: customer.baseURL, clientID: customer.clientID, secret: secret, now: clock.now()) {
            current = cached
            issued.append(cached.value)
            lastTokenWasCached = true
            return cached
        }
        // One refresh for every caller that arrives while it runs.
        let task = Task { try await self.requestToken() }
        refresh = task
        defer { refresh = nil }
        // The refresh is its own task (shared by every waiting caller); cancelling the caller
        // cancels it, so a stopped run does not sit out the token call's retries.
        let token = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        current = token
        issued.append(token.value)
        lastTokenWasCached = false
        cache?.store(token, baseURL: customer.baseURL, clientID: customer.clientID, secret: secret)
        return token
    }

    /// The values no message may show: the secret and every token this provider handed out.
    public func redactionSecrets() -> [String] { [secret] + issued }

    /// Drops `token` after Zuora answered 401 to it; a later `token()` fetches a new one once.
    public func invalidate(_ token: AccessToken) {
        guard current == token else { return }
        current = nil
        cache?.remove(baseURL: customer.baseURL, clientID: customer.clientID)
    }

    private func requestToken() async throws -> AccessToken {
        let url = URL(string: customer.baseURL.absoluteString + "/oauth/token")!
        let body = FormEncoding.encode([("client_id", customer.clientID), ("client_secret", secret), ("grant_type", "client_credentials")])
        let request = HTTPRequest(method: .post, url: url, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
            ("Zuora-Track-Id", ZuoraClient.newTrackID(random: policy.random)),
        ], body: Data(body.utf8))
        let call = "POST /oauth/token"
        let loop = RetryLoop(policy: policy, clock: clock, logger: logger)
        let response = try await loop.perform(call: call, secrets: [secret], send: { _ in
            requestCount += 1
            return try await transport.send(request)
        }, judge: { response in
            switch response.status {
            case 400, 401:
                let text = redact(ZuoraError.message(fromBody: response.body, status: response.status), secrets: [secret])
                return .fail(ZuoraError(kind: .invalidCredentials, call: call, status: response.status,
                                        message: "Zuora refused the credentials: \(text)", zuoraRequestID: response.header("Zuora-Request-Id")))
            case 200..<300:
                return .accept
            case let status where RetryPolicy.isRetryable(status: status):
                return .retry
            default:
                let text = redact(ZuoraError.message(fromBody: response.body, status: response.status), secrets: [secret])
                return .fail(ZuoraError(kind: .httpStatus, call: call, status: response.status, message: text,
                                        zuoraRequestID: response.header("Zuora-Request-Id")))
            }
        })
        guard let json = try? JSONValue.parse(response.body), let value = json["access_token"]?.stringValue, !value.isEmpty else {
            throw ZuoraError(kind: .malformedResponse, call: call, status: response.status, message: "the token response has no access_token")
        }
        // The token goes into a header: only visible ASCII, so CR/LF cannot inject header lines.
        guard value.utf8.count <= 8192, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ZuoraError(kind: .malformedResponse, call: call, status: response.status,
                             message: "the access_token holds characters a header cannot carry (control characters, spaces or non-ASCII) or is over 8 KB; refused")
        }
        let expiresIn = Self.lifetime(json["expires_in"])
        let now = clock.now()
        return AccessToken(value: value, tokenType: json["token_type"]?.stringValue ?? "bearer", scope: json["scope"]?.stringValue,
                           obtainedAt: now, expiresAt: now.addingTimeInterval(expiresIn))
    }

    /// `expires_in` in seconds, range-checked: missing, non-numeric, negative or fractional below
    /// 1 means a short life (60 s, refreshed early); more than a day is capped at a day. No value
    /// from upstream can overflow a date.
    static func lifetime(_ value: JSONValue?) -> Double {
        let seconds: Double
        switch value {
        case .int(let int)?: seconds = Double(int)
        case .double(let double)?: seconds = double
        case .string(let text)?: seconds = Double(text) ?? 3599
        case nil, .null?: seconds = 3599
        default: seconds = 60
        }
        guard seconds.isFinite, seconds >= 1 else { return 60 }
        return min(seconds, 86_400)
    }
}
