import Foundation
import ZuoraSyncCore

/// `commit.json`, written last in a stage directory: the stage finished and its outputs are whole.
public struct StageCommit: Sendable, Codable, VersionedFile {
    /// 2: `status` is one of `StageStatus`; `kind` is any registered kind's name.
    public static let currentFormatVersion = 2

    public var formatVersion = StageCommit.currentFormatVersion
    public var stageID: String
    public var kind: String
    public var status: StageStatus
    /// Display figures from the kind (`StageKind.counts`).
    public var counts: [String: Int]
    public var warnings: [String]
    public var startedAt: Date
    public var finishedAt: Date
    public var durationMilliseconds: Int
    /// SHA-256 over the stage's definition, the customer's identity, the run options and the
    /// previous stage's fingerprint.
    public var fingerprint: String
}
