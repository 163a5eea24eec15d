import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// One mock tenant on disk: `tenant.json` (client id, secret, token lifetime), `workflows.json`
/// (the list items, camelCase, as the list endpoint returns them) and `exports/<id>.json` (the
/// export bodies, served byte for byte, so a fixture can hold invalid JSON on purpose; a missing
/// file answers 404).
public struct FixtureTenant: Sendable {
    public struct Settings: Codable, Sendable {
        public var clientID: String
        public var clientSecret: String
        public var tokenTTL: Int?
    }

    public let directory: URL
    public let clientID: String
    public let clientSecret: String
    public let tokenTTL: Int

    public static func load(_ directory: URL) throws -> FixtureTenant {
        let settings = try CanonicalJSON.read(Settings.self, from: directory.appendingPathComponent("tenant.json"))
        return FixtureTenant(directory: directory, clientID: settings.clientID, clientSecret: settings.clientSecret,
                             tokenTTL: settings.tokenTTL ?? 3599)
    }

    public func listItems() throws -> [JSONValue] {
        let data = try Data(contentsOf: directory.appendingPathComponent("workflows.json"))
        return try JSONValue.parse(data).arrayValue ?? []
    }

    public func exportData(id: Int64) -> Data? {
        try? Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/exports/\(id).json", isDirectory: false))
    }
}
