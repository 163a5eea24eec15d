import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// One workflow as the list endpoint describes it (camelCase keys), reduced to what the sync uses.
///
/// A value with copy-on-write storage: its fields live in one shared box, so the copies the stages
/// hand each other (download-exports' queue, each streamed export, each item of save-workflows'
/// plan) are a reference each, not 176 bytes each (a first sync of 20,000 workflows held four
/// such copies of the listing: 5.8 MB in the queue alone, heaptrack). Its times are held as
/// numbers (`PackedTimestamp`) and written out as text when read.
public struct ListedWorkflow: Sendable, Codable, Equatable {
    /// The fields, as the listing's JSON files hold them.
    public struct Fields: Sendable, Codable, Equatable {
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
    }

    /// A time as Zuora lists it, held as milliseconds when its text is the canonical form
    /// (`Timestamp.format`): a number in place instead of a 24-character string (64 bytes of heap).
    /// Equal when their texts are (a canonical text that does not survive `Timestamp.parse`'s
    /// rounding is kept as text, and equals the same time packed from the listing).
    enum PackedTimestamp: Equatable {
        case absent
        case milliseconds(Int64)
        case other(String)

        init(_ text: String?) {
            guard let text else { self = .absent; return }
            if let milliseconds = Timestamp.milliseconds(of: text), Timestamp.format(milliseconds: milliseconds) == text {
                self = .milliseconds(milliseconds)
            } else {
                self = .other(text)
            }
        }

        var text: String? {
            switch self {
            case .absent: return nil
            case .milliseconds(let milliseconds): return Timestamp.format(milliseconds: milliseconds)
            case .other(let text): return text
            }
        }

        static func == (first: PackedTimestamp, second: PackedTimestamp) -> Bool {
            switch (first, second) {
            case (.absent, .absent): return true
            case (.milliseconds(let a), .milliseconds(let b)): return a == b
            case (.other(let a), .other(let b)): return a == b
            default: return first.text == second.text
            }
        }
    }

    /// The fields as they are held: `Fields` with its times packed.
    struct Packed: Equatable {
        var id: Int64
        var name: String
        var description: String?
        var status: String?
        var createdAt: PackedTimestamp
        var updatedAt: PackedTimestamp
        var calloutTrigger: Bool?
        var ondemandTrigger: Bool?
        var scheduledTrigger: Bool?
        var interval: String?
        var timezone: String?
        var activeVersionID: Int64?
        var activeVersion: String?
        var activeVersionType: String?

        var fields: Fields {
            Fields(id: id, name: name, description: description, status: status, createdAt: createdAt.text, updatedAt: updatedAt.text,
                   calloutTrigger: calloutTrigger, ondemandTrigger: ondemandTrigger, scheduledTrigger: scheduledTrigger, interval: interval,
                   timezone: timezone, activeVersionID: activeVersionID, activeVersion: activeVersion, activeVersionType: activeVersionType)
        }
    }

    // @unchecked: changed only through a storage no other value refers to (copied first otherwise).
    private final class Storage: @unchecked Sendable {
        var packed: Packed
        init(_ packed: Packed) { self.packed = packed }
    }

    private var storage: Storage

    /// The fields as the listing's files hold them.
    public var fields: Fields { storage.packed.fields }

    public var id: Int64 {
        get { storage.packed.id }
        set { uniqueStorage().packed.id = newValue }
    }
    public var name: String {
        get { storage.packed.name }
        set { uniqueStorage().packed.name = newValue }
    }
    public var description: String? {
        get { storage.packed.description }
        set { uniqueStorage().packed.description = newValue }
    }
    public var status: String? {
        get { storage.packed.status }
        set { uniqueStorage().packed.status = newValue }
    }
    public var createdAt: String? {
        get { storage.packed.createdAt.text }
        set { uniqueStorage().packed.createdAt = PackedTimestamp(newValue) }
    }
    public var updatedAt: String? {
        get { storage.packed.updatedAt.text }
        set { uniqueStorage().packed.updatedAt = PackedTimestamp(newValue) }
    }
    public var calloutTrigger: Bool? {
        get { storage.packed.calloutTrigger }
        set { uniqueStorage().packed.calloutTrigger = newValue }
    }
    public var ondemandTrigger: Bool? {
        get { storage.packed.ondemandTrigger }
        set { uniqueStorage().packed.ondemandTrigger = newValue }
    }
    public var scheduledTrigger: Bool? {
        get { storage.packed.scheduledTrigger }
        set { uniqueStorage().packed.scheduledTrigger = newValue }
    }
    public var interval: String? {
        get { storage.packed.interval }
        set { uniqueStorage().packed.interval = newValue }
    }
    public var timezone: String? {
        get { storage.packed.timezone }
        set { uniqueStorage().packed.timezone = newValue }
    }
    public var activeVersionID: Int64? {
        get { storage.packed.activeVersionID }
        set { uniqueStorage().packed.activeVersionID = newValue }
    }
    public var activeVersion: String? {
        get { storage.packed.activeVersion }
        set { uniqueStorage().packed.activeVersion = newValue }
    }
    public var activeVersionType: String? {
        get { storage.packed.activeVersionType }
        set { uniqueStorage().packed.activeVersionType = newValue }
    }

    private mutating func uniqueStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.packed) }
        return storage
    }

    public init(_ fields: Fields) { storage = Storage(Packed(fields)) }

    public init(from decoder: any Decoder) throws { storage = Storage(Packed(try Fields(from: decoder))) }

    /// The same keys as `Fields`: the storage does not show in the files.
    public func encode(to encoder: any Encoder) throws { try storage.packed.fields.encode(to: encoder) }

    public static func == (first: ListedWorkflow, second: ListedWorkflow) -> Bool {
        first.storage === second.storage || first.storage.packed == second.storage.packed
    }

    public init?(item: JSONValue) {
        guard let id = item["id"]?.intValue, id > 0 else { return nil }
        let active = item["active_version"] ?? item["activeVersion"]
        // Times normalised as they are packed: `Timestamp.normalize` without the text.
        func packed(_ text: String?) -> PackedTimestamp { Timestamp.milliseconds(of: text).map { .milliseconds($0) } ?? .absent }
        storage = Storage(Packed(
            id: id,
            // NUL cannot be stored faithfully (SQLite's C strings end there): it becomes U+FFFD.
            name: Self.withoutNUL(item["name"]?.stringValue ?? ""),
            description: item["description"]?.stringValue.map(Self.withoutNUL),
            status: item["status"]?.stringValue,
            createdAt: packed(item["createdAt"]?.stringValue),
            updatedAt: packed(item["updatedAt"]?.stringValue),
            calloutTrigger: item["calloutTrigger"]?.boolValue,
            ondemandTrigger: item["ondemandTrigger"]?.boolValue,
            scheduledTrigger: item["scheduledTrigger"]?.boolValue,
            interval: item["interval"]?.stringValue ?? item["interval"]?.intValue.map(String.init),
            timezone: item["timezone"]?.stringValue,
            activeVersionID: active?["id"]?.intValue,
            activeVersion: active?["version"]?.stringValue,
            activeVersionType: active?["type"]?.stringValue))
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

/// Not in the type: an initializer there would take the place of its memberwise one.
extension ListedWorkflow.Packed {
    init(_ fields: ListedWorkflow.Fields) {
        self.init(id: fields.id, name: fields.name, description: fields.description, status: fields.status,
                  createdAt: ListedWorkflow.PackedTimestamp(fields.createdAt), updatedAt: ListedWorkflow.PackedTimestamp(fields.updatedAt),
                  calloutTrigger: fields.calloutTrigger, ondemandTrigger: fields.ondemandTrigger, scheduledTrigger: fields.scheduledTrigger,
                  interval: fields.interval, timezone: fields.timezone, activeVersionID: fields.activeVersionID,
                  activeVersion: fields.activeVersion, activeVersionType: fields.activeVersionType)
    }
}
