import Foundation

/// An error about one file of the data directory or the configuration: the path, what is wrong
/// and what to do, and the underlying error when there is one.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    /// The user named something that does not exist (a run id, say): a usage error, exit 64.
    public let isUsageError: Bool
    /// What the file system or decoder said, kept for logs and `--json` output.
    public let cause: (any Error & Sendable)?

    public init(path: String, message: String, isUsageError: Bool = false, cause: (any Error)? = nil) {
        self.path = path
        self.message = message
        self.isUsageError = isUsageError
        self.cause = cause.map { SendableCause(description: String(describing: $0)) }
    }

    public var description: String { "\(path): \(message)" }
}

/// The text of an underlying error, kept as a value (most Foundation errors are not Sendable).
public struct SendableCause: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// An error that knows whether a later attempt (a resume, a queued retry) can succeed.
public protocol RetryClassifiable: Error {
    var isRetryable: Bool { get }
}

/// Another process holds a customer's lock: retryable, names the holder.
public struct CustomerBusyError: Error, RetryClassifiable, CustomStringConvertible, Sendable {
    public init(customer: String, holder: String) {
        self.customer = customer
        self.holder = holder
    }
    public let customer: String
    public let holder: String
    public var isRetryable: Bool { true }
    public var description: String {
        "another run is syncing customer '\(customer)' right now (\(holder)); wait for it to finish or stop it"
    }
}
