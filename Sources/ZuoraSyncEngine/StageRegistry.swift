import Foundation
import ZuoraSyncCore

/// The stage kinds a pipeline may use, in one place. The built-in list is `BuiltInStages.registry`
/// (ZuoraSyncStages); a program or a test adds its own kinds with `adding(_:)`.
public struct StageRegistry: Sendable {
    private var kinds: [RegisteredStageKind]

    public init(_ kinds: [any StageKind.Type]) {
        self.kinds = kinds.map { RegisteredStageKind($0) }
    }

    /// A registry with one more kind (replacing a kind of the same name).
    public func adding(_ kind: any StageKind.Type) -> StageRegistry {
        var copy = self
        copy.kinds.removeAll { $0.name == kind.name }
        copy.kinds.append(RegisteredStageKind(kind))
        return copy
    }

    /// Every kind's name, in registration order.
    public var names: [String] { kinds.map(\.name) }

    /// The kind with this name.
    public func kind(named name: String) -> RegisteredStageKind? { kinds.first { $0.name == name } }
}

/// A stage kind with its types erased, as the engine and loader use it.
public struct RegisteredStageKind: Sendable {
    public let name: String
    /// Names of the kinds that must come earlier.
    public let inputs: [String]
    /// The kind this one streams from (`StageKind.streamsFrom`), if any.
    public let streamsFrom: String?
    /// Reads and checks settings, returning their normalised JSON (snake_case, defaults filled in).
    let normaliseSettings: @Sendable (any SettingsReader) throws -> [String: JSONValue]
    /// Runs the stage and writes its `result.json`; returns what goes into `commit.json`.
    let execute: @Sendable (StageContext, any SettingsReader) async throws -> StageRecord
    /// Adds the committed result in a stage directory to a customer summary (the result decoded in
    /// this run when the cache has it, else read from the directory).
    let summarize: @Sendable (URL, StageResultCache, inout CustomerSummary) throws -> Void

    init<K: StageKind>(_ kind: K.Type) {
        name = K.name
        inputs = K.inputs.map { $0.name }
        streamsFrom = K.streamsFrom?.name
        normaliseSettings = { reader in try SettingsEncoding.object(try K.Settings(reading: reader)) }
        execute = { context, reader in
            let settings = try K.Settings(reading: reader)
            let output = try await K().run(context, settings: settings)
            try StageResultFile.write(output.result, formatVersion: K.resultFormatVersion, in: context.directory,
                                      sharing: SharedRunFiles(dataDirectory: context.services.dataDirectory.root))
            context.cache.store(output.result, for: K.name)
            return StageRecord(status: output.status, counts: K.counts(of: output.result), warnings: output.warnings)
        }
        summarize = { directory, cache, summary in
            let result: K.Result = try cache.value(for: K.name)
                ?? StageResultFile.read(K.Result.self, formatVersion: K.resultFormatVersion, in: directory)
            K.summarize(result, into: &summary)
        }
    }

    /// Checks a stage entry's settings and returns them normalised.
    public func settings(from reader: any SettingsReader) throws -> [String: JSONValue] { try normaliseSettings(reader) }
}

/// What the engine records of a finished stage.
struct StageRecord: Sendable {
    var status: StageStatus
    var counts: [String: Int]
    var warnings: [String]
}

/// Reads and writes a stage's `result.json`: the typed result with its format version.
public enum StageResultFile {
    /// `sharing`: a large result that a run before wrote byte for byte (an unchanged listing) is
    /// a link to the same file, not a copy.
    public static func write<T: Encodable>(_ result: T, formatVersion: Int, in directory: URL, sharing: SharedRunFiles? = nil) throws {
        try CanonicalJSON.write(result, formatVersion: formatVersion, to: directory.appendingPathComponent(StageFiles.result), sharing: sharing)
    }

    public static func read<T: Decodable>(_ type: T.Type, formatVersion: Int, in directory: URL, name: String = StageFiles.result) throws -> T {
        try CanonicalJSON.readVersioned(type, from: directory.appendingPathComponent(name), currentFormatVersion: formatVersion)
    }
}
