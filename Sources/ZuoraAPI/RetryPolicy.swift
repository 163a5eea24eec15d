import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Decides whether and how long to wait before another try of a Zuora call.
public struct RetryPolicy: Sendable {
    public var settings: RetrySettings
    /// Jitter source; a seam so tests can pin it.
    public var random: RandomSource

    public init(settings: RetrySettings, random: RandomSource = .system) {
        self.settings = settings
        self.random = random
    }

    /// Statuses worth another try.
    public static func isRetryable(status: Int) -> Bool { [429, 500, 502, 503, 504].contains(status) }

    /// Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^(attempt-1))], in seconds.
    public func backoff(afterAttempt attempt: Int) -> Double {
        let base = Double(settings.baseDelayMilliseconds) / 1000
        let cap = Double(settings.maxDelayMilliseconds) / 1000
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return ceiling * random.nextUnitDouble()
    }

    /// Seconds from a `Retry-After` header: a number of seconds or an HTTP date.
    public static func retryAfterSeconds(_ value: String?, now: Date) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) {
            // A negative, infinite or NaN value is no instruction: fall back to backoff.
            return seconds.isFinite && seconds >= 0 ? seconds : nil
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}
