import Foundation
import ZuoraSyncCore

/// One kind of stage, declared in one file: its name in YAML, its typed settings and result, the
/// earlier kinds it reads, and what it adds to the run summary. Register it in a `StageRegistry`;
/// the engine, the loader, the manifest and the summary never name a specific kind.
///
/// The engine creates the stage's directory, calls `run`, writes `Result` as `result.json` (with
/// its format version) and then `commit.json`. A resumed run skips a committed stage.
public protocol StageKind: Sendable {
    /// The kind's typed settings (`NoSettings` when it has none).
    associatedtype Settings: StageSettings
    /// What the stage hands to later stages (`result.json`).
    associatedtype Result: Codable & Sendable
    /// What the stage publishes while it runs (a listed page), for a stage that streams from it.
    associatedtype Partial: Sendable = Never

    /// `kind:` in a pipeline file, e.g. `download-exports`.
    static var name: String { get }
    /// Earlier kinds whose output this kind reads; a pipeline must list them before it.
    static var inputs: [any StageKind.Type] { get }
    /// The format version of `Result` in `result.json`; raise it when the shape changes.
    static var resultFormatVersion: Int { get }
    /// An earlier kind this one may start on while that one is still running. When that kind is
    /// the stage just before this one and has to run, the engine runs both at once: this stage
    /// reads the producer's `Partial`s with `StageContext.partials(of:)` as they are published, and
    /// is committed only after the producer committed. When the producer was committed earlier
    /// (a resumed run), `partials(of:)` is nil and the stage reads the producer's result as usual.
    static var streamsFrom: (any StageKind.Type)? { get }

    init()

    /// Does the stage's work for one customer.
    func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result>

    /// Figures shown by `inspect` and recorded in `commit.json` (display only; later stages read
    /// the typed result).
    static func counts(of result: Result) -> [String: Int]

    /// What this stage adds to the customer's line of the run summary.
    static func summarize(_ result: Result, into summary: inout CustomerSummary)
}

extension StageKind {
    public static var inputs: [any StageKind.Type] { [] }
    public static var resultFormatVersion: Int { 1 }
    public static var streamsFrom: (any StageKind.Type)? { nil }
    public static func counts(of result: Result) -> [String: Int] { [:] }
    public static func summarize(_ result: Result, into summary: inout CustomerSummary) {}
}

/// What a stage run returns to the engine.
public struct StageOutput<Result: Codable & Sendable>: Sendable {
    public var result: Result
    public var warnings: [String]
    public var status: StageStatus

    public init(_ result: Result, warnings: [String] = [], status: StageStatus = .committed) {
        self.result = result
        self.warnings = warnings.sorted()
        self.status = status
    }
}

/// How a stage ended.
public enum StageStatus: String, Sendable, Codable {
    /// Done; its outputs are whole.
    case committed
    /// Done, but it chose not to act (cleanup on a doubtful listing).
    case skipped
    /// Done in a dry run: computed, changed nothing.
    case dryRun = "dry-run"
}

/// A stage's settings: every key with its default and range, read once in `init(reading:)`, from a
/// pipeline file or from the copy kept in `run.json`. Stored properties are named as the YAML keys
/// in camelCase (`page_size` → `pageSize`), so the encoded copy reads back the same.
public protocol StageSettings: Sendable, Encodable, Equatable {
    init(reading settings: some SettingsReader) throws
}

/// For kinds without settings.
public struct NoSettings: StageSettings {
    public init() {}
    public init(reading settings: some SettingsReader) throws {}
}
