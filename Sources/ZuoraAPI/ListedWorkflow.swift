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

extension ListedWorkflow {
    /// SHA-256 of a whole listing: equal for two listings of the same workflows (in the same
    /// order) with every field equal. Each field is written with its length, so no two different
    /// listings give the same bytes.
    public static func fingerprint(of workflows: [ListedWorkflow]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(workflows.count * 256)
        func add(_ text: String?) {
            guard let text else { bytes.append(0); return }
            bytes.append(1)
            bytes.append(contentsOf: String(text.utf8.count).utf8)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: text.utf8)
        }
        func add(_ number: Int64?) { add(number.map { String($0) }) }
        func add(_ flag: Bool?) { bytes.append(flag.map { $0 ? 2 : 1 } ?? 0) }
        for workflow in workflows {
            add(workflow.id)
            add(workflow.name)
            add(workflow.description)
            add(workflow.status)
            add(workflow.createdAt)
            add(workflow.updatedAt)
            add(workflow.calloutTrigger)
            add(workflow.ondemandTrigger)
            add(workflow.scheduledTrigger)
            add(workflow.interval)
            add(workflow.timezone)
            add(workflow.activeVersionID)
            add(workflow.activeVersion)
            add(workflow.activeVersionType)
        }
        return Digest.sha256Hex(Data(bytes))
    }
}
