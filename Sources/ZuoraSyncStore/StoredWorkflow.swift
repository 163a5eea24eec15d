import Foundation
import ZuoraSyncCore

/// The columns of a `workflows` row that the sync compares against a listing.
public struct StoredWorkflow: Sendable, Equatable, Codable {
    public var rowID: Int64
    public var zuoraID: Int64
    public var name: String
    public var status: String?
    public var version: String?
    public var updatedOn: String?
    public var exportSHA256: String?

    init(row: SQLRow) {
        rowID = row["id"]
        zuoraID = row["zuora_id"]
        name = row["name"]
        status = row["status"]
        version = row["version"]
        updatedOn = row["updated_on"]
        exportSHA256 = row["export_sha256"]
    }

    public var hasGoodExport: Bool { exportSHA256 != nil }
}

/// What `Store.listingMatch` remembers: the listing's fingerprint, and the id of that recording.
/// The same listing recorded again after a change (an export that changed without its listing, in
/// a full pass) gets another id, so files that trust an unchanged store (snapshot checks, state
/// lists) compare the id, not the fingerprint.
public struct ListingMatch: Sendable, Equatable {
    public var listingSHA256: String
    public var id: String
}

/// A stored export: the canonical JSON text (the exact bytes of its snapshot file) and its SHA-256.
public struct StoredExport: Sendable {
    public var zuoraID: Int64
    public var text: String
    public var sha256: String
}

/// A whole workflow with its tasks and linkages as rows, for the trash and for restore.
public struct WorkflowArchive: Sendable, Codable, Equatable, VersionedFile {
    public static let currentFormatVersion = 1
    public var formatVersion = 1
    public var customerSlug: String
    public var workflow: [String: JSONValue]
    public var tasks: [[String: JSONValue]]
    public var linkages: [[String: JSONValue]]
}

extension JSONValue {
    /// A database value as JSON (integers, reals, text, null).
    init(sqlValue: SQLValue) {
        switch sqlValue {
        case .null: self = .null
        case .integer(let value): self = .int(value)
        case .real(let value): self = .double(value)
        case .text(let value): self = .string(value)
        }
    }

    var sqlValue: SQLValue {
        switch self {
        case .null: return .null
        case .bool(let value): return .integer(value ? 1 : 0)
        case .int(let value): return .integer(value)
        case .double(let value): return .real(value)
        case .string(let value): return .text(value)
        case .array, .object: return .text(compactCanonicalString())
        }
    }
}
