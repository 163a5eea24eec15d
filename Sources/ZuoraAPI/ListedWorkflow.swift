import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// One workflow as the list endpoint describes it (camelCase keys), reduced to what the sync uses.
public struct ListedWorkflow: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String?
    public var status: String?
    public var createdAt: String?
    public var updatedAt: String?
    public var calloutTrigger: Bool?
    public var ondemandTrigger: Bool?
    public var scheduledTrigger: Bool?
    public var interval: String?
    public var timezone: String?
    public var activeVersionID: Int64?
    public var activeVersion: String?
    public var activeVersionType: String?

    /// Reads one `data` item. Returns nil when it has no positive integer `id` (the caller warns).
    public init?(item: JSONValue) {
        guard let id = item["id"]?.intValue, id > 0 else { return nil }
        self.id = id
        // NUL cannot be stored faithfully (SQLite's C strings end there): it becomes U+FFFD.
        name = Self.withoutNUL(item["name"]?.stringValue ?? "")
        description = item["description"]?.stringValue.map(Self.withoutNUL)
        status = item["status"]?.stringValue
        createdAt = Timestamp.normalize(item["createdAt"]?.stringValue)
        updatedAt = Timestamp.normalize(item["updatedAt"]?.stringValue)
        calloutTrigger = item["calloutTrigger"]?.boolValue
        ondemandTrigger = item["ondemandTrigger"]?.boolValue
        scheduledTrigger = item["scheduledTrigger"]?.boolValue
        interval = item["interval"]?.stringValue ?? item["interval"]?.intValue.map(String.init)
        timezone = item["timezone"]?.stringValue
        let active = item["active_version"] ?? item["activeVersion"]
        activeVersionID = active?["id"]?.intValue
        activeVersion = active?["version"]?.stringValue
        activeVersionType = active?["type"]?.stringValue
    }

    /// Whether a listed text held a NUL character (the caller warns).
    public static func hasNUL(_ item: JSONValue) -> Bool {
        (item["name"]?.stringValue?.containsNUL ?? false) || (item["description"]?.stringValue?.containsNUL ?? false)
    }

    static func withoutNUL(_ text: String) -> String {
        text.replacingNUL
    }
}
