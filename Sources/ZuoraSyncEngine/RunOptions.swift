import ZuoraSyncCore

/// Options that change what a run does; recorded in `run.json` so a resume does the same.
public struct RunOptions: Sendable, Codable, Equatable {
    /// Download every export, changed or not.
    public var full = false
    /// Run up to the store, then report what would change without changing it.
    public var dryRun = false
    /// Let cleanup delete more than the configured share or count.
    public var allowMassDelete = false

    public init(full: Bool = false, dryRun: Bool = false, allowMassDelete: Bool = false) {
        self.full = full
        self.dryRun = dryRun
        self.allowMassDelete = allowMassDelete
    }

    /// Missing keys (an older `run.json`) take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        full = try c.decodeIfPresent(Bool.self, forKey: .full) ?? false
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
        allowMassDelete = try c.decodeIfPresent(Bool.self, forKey: .allowMassDelete) ?? false
    }
}
