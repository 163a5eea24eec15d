import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// An OAuth access token and when to stop using it. `description` never shows the token.
public struct AccessToken: Sendable, Equatable, CustomStringConvertible {
    public var value: String
    public var tokenType: String
    public var scope: String?
    public var obtainedAt: Date
    public var expiresAt: Date

    /// Refresh margin: 5 minutes or 10 % of the lifetime, whichever is smaller.
    public var refreshAt: Date {
        let lifetime = expiresAt.timeIntervalSince(obtainedAt)
        return expiresAt.addingTimeInterval(-min(300, lifetime * 0.1))
    }

    public func isUsable(at now: Date) -> Bool { now < refreshAt }

    public var description: String { "AccessToken(type: \(tokenType), expires: \(Timestamp.format(expiresAt)))" }
}
