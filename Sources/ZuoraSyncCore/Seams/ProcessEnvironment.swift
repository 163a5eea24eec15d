import Foundation

/// The seam for the process environment: the executable reads it once and hands it down; library
/// code never reads `ProcessInfo` itself. Tests pass a dictionary.
public enum ProcessEnvironment {
    /// The current process's environment variables.
    public static func current() -> [String: String] { ProcessInfo.processInfo.environment }

    /// This host's name, for lock files, leases and messages.
    public static func hostName() -> String { ProcessInfo.processInfo.hostName }
}
