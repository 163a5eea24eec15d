import Foundation
import ZuoraSyncCore

/// The names of the files every stage directory may hold, declared once.
public enum StageFiles {
    /// Written last: the stage finished and its outputs are whole.
    public static let commit = "commit.json"
    /// The stage's typed result, read by later stages.
    public static let result = "result.json"
    /// What a stage that changes the store will do, written before it does it.
    public static let plan = "plan.json"
    /// Written when a stage starts: the inputs (fingerprint) its partial outputs belong to.
    public static let attempt = "attempt.json"
}

/// `attempt.json`: a stage was started with these inputs; an interrupted attempt's outputs are
/// reused by a resume only when the fingerprint still matches.
public struct StageAttempt: Sendable, Codable, VersionedFile {
    public static let currentFormatVersion = 1
    public var formatVersion = StageAttempt.currentFormatVersion
    public var fingerprint: String
    public var startedAt: Date

    public init(fingerprint: String, startedAt: Date) {
        self.fingerprint = fingerprint
        self.startedAt = startedAt
    }
}
