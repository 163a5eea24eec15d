import ZuoraSyncCore

/// A customer-level failure raised by a stage: what happened, and whether a later try can help.
public struct StageFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var isRetryable: Bool
    public init(_ message: String, isRetryable: Bool) {
        self.message = message
        self.isRetryable = isRetryable
    }
    public var description: String { message }
}

extension StageFailure: RetryClassifiable {}
