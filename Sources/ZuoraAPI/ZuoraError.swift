import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// What went wrong talking to Zuora, with the call, the status and Zuora's own message.
public struct ZuoraError: Error, CustomStringConvertible, Sendable, RetryClassifiable {
    public enum Kind: String, Sendable, Codable {
        /// 400/401 at the token call: wrong client id or secret. Never retried.
        case invalidCredentials
        /// A 401 that a fresh token did not fix.
        case unauthorized
        /// 429s (or a Retry-After) longer than the configured maximum wait.
        case rateLimited
        /// Retries used up on timeouts, connection errors or 5xx.
        case unavailable
        /// Any other non-success status (400, 403, 404, ...): not retried.
        case httpStatus
        /// The body is not what the API documents.
        case malformedResponse
        /// The body passed the configured size limit.
        case responseTooLarge
    }

    public var kind: Kind
    /// The call, e.g. `GET /workflows?page=2` (no host, no token).
    public var call: String
    public var status: Int?
    public var message: String
    public var zuoraRequestID: String?

    public init(kind: Kind, call: String, status: Int? = nil, message: String, zuoraRequestID: String? = nil) {
        self.kind = kind
        self.call = call
        self.status = status
        self.message = message
        self.zuoraRequestID = zuoraRequestID
    }

    /// Whether a later attempt (a queued retry) may succeed.
    public var isRetryable: Bool {
        switch kind {
        case .invalidCredentials, .httpStatus, .malformedResponse, .unauthorized, .responseTooLarge: return false
        case .rateLimited, .unavailable: return true
        }
    }

    public var description: String {
        var text = "\(call)"
        if let status { text += " → HTTP \(status)" }
        text += ": \(message)"
        if let zuoraRequestID { text += " (Zuora-Request-Id \(zuoraRequestID))" }
        switch kind {
        case .invalidCredentials: text += ". Check the customer's client_id and secret (customers validate)."
        case .unauthorized: text += ". A fresh token was refused too; check the client's permissions in Zuora."
        case .rateLimited: text += ". Zuora asked to wait longer than retry.max_retry_after; the next run resumes."
        case .unavailable: text += ". Retries are used up; resume the run later."
        default: break
        }
        return text
    }

    /// Zuora's error text from any of its error body shapes, trimmed; else the body's first 300 characters.
    public static func message(fromBody body: Data, status: Int) -> String {
        if let json = try? JSONValue.parse(body) {
            if let errors = json["errors"]?.arrayValue {
                let texts = errors.compactMap { item -> String? in
                    let title = item["title"]?.stringValue ?? item["message"]?.stringValue
                    let code = item["code"].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }
                    return title.map { code != nil ? "\($0) [\(code!)]" : $0 }
                }
                if !texts.isEmpty { return texts.joined(separator: "; ") }
            }
            if let reasons = json["reasons"]?.arrayValue {
                let texts = reasons.compactMap { $0["message"]?.stringValue }
                if !texts.isEmpty { return texts.joined(separator: "; ") }
            }
            for key in ["error_description", "message", "error"] {
                if let text = json[key]?.stringValue, !text.isEmpty { return text }
            }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? HTTPStatusText.reason(status) : text
    }
}


