import Foundation

/// One stage of a pipeline: its `id`, its `kind` (a name the stage registry knows) and that kind's
/// own settings, as the kind normalised them (snake_case keys, defaults filled in). The settings
/// become typed only where the kind runs, so this type knows no kind.
public struct StageDefinition: Sendable, Codable, Equatable {
    /// `id`: a unique slug, used in the run directory (`NN-<id>`).
    public var id: String
    /// `kind`: the stage kind's name, e.g. `download-exports`.
    public var kind: String
    /// The kind's settings as a JSON object.
    public var settings: [String: JSONValue]
    /// A stage definition as format 1 of `run.json` wrote it (every kind's settings on every stage,
    /// camelCase). Kept so an old run keeps its fingerprints and is written back as it was.
    private var legacyObject: [String: JSONValue]?

    public init(id: String, kind: String, settings: [String: JSONValue] = [:]) {
        self.id = id
        self.kind = kind
        self.settings = settings
    }

    private enum CodingKeys: String, CodingKey { case id, kind, settings }

    public init(from decoder: any Decoder) throws {
        let object = try JSONValue(from: decoder)
        guard case .object(let fields) = object, let id = fields["id"]?.stringValue, let kind = fields["kind"]?.stringValue else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a stage needs an id and a kind"))
        }
        self.id = id
        self.kind = kind
        if let settings = fields["settings"] {
            guard case .object(let values) = settings else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a stage's settings must be an object"))
            }
            self.settings = values
        } else {
            // Format 1: flat camelCase keys of every kind's settings. The kind reads the ones it knows.
            var values: [String: JSONValue] = [:]
            for (key, value) in fields where key != "id" && key != "kind" { values[Self.snakeCase(key)] = value }
            settings = values
            legacyObject = fields
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let legacyObject {
            try JSONValue.object(legacyObject).encode(to: encoder)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(settings, forKey: .settings)
    }

    static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
