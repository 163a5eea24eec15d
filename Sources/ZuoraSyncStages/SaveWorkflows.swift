import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Upserts the listed workflows and the good exports into the store, in batches as the exports
/// arrive when it runs alongside download-exports, then refreshes the snapshots. Counts are true:
/// `updated` means something actually differs.
public struct SaveWorkflows: StageKind {
    /// Workflows whose stored export this stage just replaced (or stored first), for extract-tasks.
    public typealias Partial = [Stored]

    /// A workflow and the hash of the export now stored for it.
    public struct Stored: Sendable {
        public var id: Int64
        /// Nil only if the workflow has no stored export.
        public var sha256: String?
    }

    public static let name = "save-workflows"
    public static var inputs: [any StageKind.Type] { [FetchWorkflowPages.self, DownloadExports.self] }
    public static var streamsFrom: (any StageKind.Type)? { DownloadExports.self }

    /// `plan.json`: what the stage did (or, in a dry run, would do). The store records each change
    /// in `workflow_changes` in the transaction that makes it, and the plan is written at the end
    /// from those records, so a resumed stage reports the same counts as an uninterrupted one.
    /// Format 2 lists only the workflows created or updated (its size follows the changes, not the
    /// tenant); format 1 listed every workflow and still reads.
    public struct Plan: Sendable, Codable, VersionedFile {
        public static let currentFormatVersion = 2
        public enum Action: String, Sendable, Codable { case created, updated, unchanged }
        public struct Item: Sendable, Codable {
            public var listed: ListedWorkflow
            public var action: Action
            /// Set when a good export was downloaded in this run; the store's export is replaced only then.
            public var exportSHA256: String?
            /// What differs from the stored row (`name`, `status`, `version`, `updatedAt`, `export`).
            public var changedFields: [String]
            /// The stored export's hash before this run (nil: none yet). Absent in plans of older runs.
            public var previousExportSHA256: String?
        }
        public var formatVersion = Plan.currentFormatVersion
        /// Created and updated workflows (format 1: every listed workflow).
        public var items: [Item]
        /// Listed workflows that are unchanged (format 2; format 1 counted its unchanged items).
        public var unchanged: Int
        /// Good exports downloaded in this run and handed to the store.
        public var exportsStored: Int
        /// Format 1 only (rewritten once applied); format 2 is written once and leaves it out:
        /// `result.json` says whether the plan was applied.
        public var isApplied: Bool?

        public init(items: [Item], unchanged: Int, exportsStored: Int) {
            self.items = items
            self.unchanged = unchanged
            self.exportsStored = exportsStored
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formatVersion = try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
            let all = try c.decode([Item].self, forKey: .items)
            isApplied = try c.decodeIfPresent(Bool.self, forKey: .isApplied)
            if let unchanged = try c.decodeIfPresent(Int.self, forKey: .unchanged) {
                items = all
                self.unchanged = unchanged
                exportsStored = try c.decodeIfPresent(Int.self, forKey: .exportsStored) ?? all.count { $0.exportSHA256 != nil }
            } else {
                items = all.filter { $0.action != .unchanged }
                unchanged = all.count - items.count
                exportsStored = all.count { $0.exportSHA256 != nil }
            }
        }
    }

    /// `result.json`: counts and the workflows that changed.
    public struct Result: Sendable, Codable {
        public struct Changed: Sendable, Codable {
            public var id: Int64
            public var name: String
            public var action: Plan.Action
            public var fields: [String]
        }
        public var isApplied: Bool
        public var created: Int
        public var updated: Int
        public var unchanged: Int
        public var exportsStored: Int
        public var changed: [Changed]
        /// The listing's fingerprint (`ListedWorkflow.fingerprint`), when the store now holds it as
        /// listed: applied (not a dry run) and no export failed. Cleanup records the match with it.
        public var listingSHA256: String?
        /// The store was already proven to hold this listing (`Store.listingMatch`) and nothing was
        /// downloaded: the stage compared and wrote nothing.
        public var storeMatchedListing: Bool

        /// Reads format 1 too, whose counts were a dictionary.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            isApplied = try c.decode(Bool.self, forKey: .isApplied)
            changed = try c.decode([Changed].self, forKey: .changed)
            let legacy = try c.decodeIfPresent([String: Int].self, forKey: .counts) ?? [:]
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? legacy["created"] ?? 0
            updated = try c.decodeIfPresent(Int.self, forKey: .updated) ?? legacy["updated"] ?? 0
            unchanged = try c.decodeIfPresent(Int.self, forKey: .unchanged) ?? legacy["unchanged"] ?? 0
            exportsStored = try c.decodeIfPresent(Int.self, forKey: .exportsStored) ?? legacy["exports_stored"] ?? 0
            listingSHA256 = try c.decodeIfPresent(String.self, forKey: .listingSHA256)
            storeMatchedListing = try c.decodeIfPresent(Bool.self, forKey: .storeMatchedListing) ?? false
        }

        init(plan: Plan, isApplied: Bool, listingSHA256: String?, storeMatchedListing: Bool) {
            self.isApplied = isApplied
            self.listingSHA256 = listingSHA256
            self.storeMatchedListing = storeMatchedListing
            created = plan.items.count { $0.action == .created }
            updated = plan.items.count { $0.action == .updated }
            unchanged = plan.unchanged
            exportsStored = plan.exportsStored
            changed = plan.items.map {
                Changed(id: $0.listed.id, name: $0.listed.name, action: $0.action, fields: $0.changedFields)
            }
        }

        private enum CodingKeys: String, CodingKey {
            case isApplied, created, updated, unchanged, exportsStored, changed, counts, listingSHA256, storeMatchedListing
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(isApplied, forKey: .isApplied)
            try c.encode(created, forKey: .created)
            try c.encode(updated, forKey: .updated)
            try c.encode(unchanged, forKey: .unchanged)
            try c.encode(exportsStored, forKey: .exportsStored)
            try c.encode(changed, forKey: .changed)
            try c.encodeIfPresent(listingSHA256, forKey: .listingSHA256)
            if storeMatchedListing { try c.encode(true, forKey: .storeMatchedListing) }
        }
    }

    public static let resultFormatVersion = 2

    /// How many downloaded exports may be out to this stage and not yet stored (taken in batches
    /// of at most 400, acknowledged once stored, the batch being stored included): past that,
    /// download-exports waits. When the database was the slower side (with its transactions run
    /// off the cooperative pool, `BlockingWork`), the downloads ran ahead by thousands, and each
    /// waiting export held its tasks for extract-tasks until the hand-off overflowed (52 MB of
    /// heap at the peak of a 20,000 first sync, against 32 MB). One full batch: a 20,000 first
    /// sync then read no export back from the store; twice that let the hand-off (8 MB, about 330
    /// exports) overflow again.
    public static let downloadsHeldAhead = 400

    public init() {}

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        let partials = context.partials(of: DownloadExports.self, holdingAtMost: Self.downloadsHeldAhead)
        guard context.options.dryRun else { return try await store(context, streamed: partials) }
        // A dry run stores nothing: it starts once the downloads are committed, and only plans.
        if let partials { for try await _ in partials {} }
        return try planWithoutStoring(context)
    }

    /// Stores each batch of exports as download-exports finishes them (at least 100 a transaction
    /// while more are coming, fewer after a 50 ms wait; at most 400), when it runs alongside;
    /// then, once download-exports is committed, the whole listing, of which the store writes
    /// only what differs. A change and its record in `workflow_changes` commit together, so
    /// `plan.json` is written last from those records, and a resumed attempt counts what an
    /// interrupted one already wrote.
    private func store(_ context: StageContext, streamed: AsyncThrowingMapSequence<AsyncThrowingStream<any Sendable, any Error>, DownloadExports.Partial>?)
        async throws -> StageOutput<Result> {
        let store = context.services.store
        let slug = context.customer.id
        let downloadsDirectory = try context.directory(of: DownloadExports.self)
        let objects = ObjectStore(dataDirectory: context.services.dataDirectory.root)
        // While streaming: the texts the store read, and checked against their hashes, as it
        // stored the batch. Their snapshot files are written from them, not read and hashed again.
        var checkedTexts: [Int64: String]? = [:]
        func exportText(_ id: Int64) throws -> String {
            let text = try String(contentsOf: DownloadExports.exportFile(id, in: downloadsDirectory), encoding: .utf8)
            checkedTexts?[id] = text
            return text
        }
        @discardableResult
        func apply(_ rows: [WorkflowUpsert]) throws -> [WorkflowChangeRow] {
            try store.applyRecordingChanges(rows, customer: context.customer, syncedAt: context.runStartedAt, runID: context.runID,
                                            exportText: exportText)
        }
        // The objects are hard links to this run's copies: the bytes are on disk once. They are
        // flushed once, before the stage commits, if any is new.
        var linkedNewObjects = false
        // Exports linked while streaming are not linked again once the downloads are committed.
        var linked = Set<String>()
        func link(_ id: Int64, _ sha256: String) throws {
            guard linked.insert(sha256).inserted else { return }
            if try objects.link(DownloadExports.exportFile(id, in: downloadsDirectory), sha256: sha256) { linkedNewObjects = true }
        }
        var storedWhileStreaming = 0
        // Snapshot files written while streaming; the refresh at the end does not write them again.
        var placedSnapshots: [Int64: SnapshotWriter.PlacedFile] = [:]
        if let streamed {
            for try await part in streamed.batched(min: 100, max: 400, maxWait: .milliseconds(50)) {
                try Task.checkCancellation()
                let changes = try apply(part.map { WorkflowUpsert(listed: $0.listed, exportSHA256: $0.downloaded.sha256) })
                for item in part { try link(item.listed.id, item.downloaded.sha256) }
                storedWhileStreaming += part.count
                // Only the workflows whose stored export changed need their tasks extracted again
                // (a daily full pass downloads every export, and most are the stored ones).
                let replaced = changes.filter { $0.exportSHA256After != $0.exportSHA256Before }
                await context.publish(replaced.map { Stored(id: $0.zuoraID, sha256: $0.exportSHA256After) }, from: Self.self)
                // Their snapshot files now, while the downloads go on, not all at the end: from the
                // text the store checked when it is the export this batch downloaded, else (never
                // seen) from the run's copy, read and checked again.
                let downloaded = Dictionary(part.map { ($0.listed.id, $0.downloaded.sha256) }, uniquingKeysWith: { _, last in last })
                let files = replaced.compactMap { change -> (zuoraID: Int64, sha256: String, bytes: SnapshotWriter.ExportBytes)? in
                    guard let sha256 = change.exportSHA256After else { return nil }
                    if downloaded[change.zuoraID] == sha256, let text = checkedTexts?[change.zuoraID] {
                        return (change.zuoraID, sha256, .checked(text))
                    }
                    return (change.zuoraID, sha256, .file(DownloadExports.exportFile(change.zuoraID, in: downloadsDirectory)))
                }
                checkedTexts = [:]
                placedSnapshots.merge(try context.services.snapshots.placeStored(files, customerSlug: slug)) { _, latest in latest }
                context.acknowledge(part.count, of: DownloadExports.self)
            }
        }

        // The applies below do not place snapshot files: they keep no texts.
        checkedTexts = nil
        // download-exports committed: the listing and its outcome are final.
        let listing = try context.result(of: FetchWorkflowPages.self)
        let downloads = try context.result(of: DownloadExports.self)
        let fingerprint = ListedWorkflow.fingerprint(of: listing.workflows)
        // Nothing downloaded and the store already proven to hold this very listing: nothing can
        // differ, so nothing is compared or written (an unchanged resync costs what listing costs).
        var storeMatchesListing = false
        if storedWhileStreaming == 0, downloads.downloaded.isEmpty, downloads.failed.isEmpty {
            storeMatchesListing = try store.listingMatch(customerSlug: slug)?.listingSHA256 == fingerprint
        }
        // The customer's row, whatever the listing holds (an empty tenant too), with its current
        // name and address from the customers file.
        _ = try store.upsertCustomer(context.customer)
        if !storeMatchesListing {
            // Every listed workflow, those stored while streaming too (a page listed again may have
            // changed them): the store writes only what differs, and does not read an export whose
            // hash is the stored one.
            let hashes = Dictionary(uniqueKeysWithValues: downloads.downloaded.map { ($0.id, $0.sha256) })
            let failed = Set(downloads.failed.map(\.id))
            let written = writtenListing(listing.workflows, failed: failed, stored: failed.isEmpty ? [:] : try store.storedWorkflows(customerSlug: slug))
            for start in stride(from: 0, to: written.count, by: 1000) {
                try Task.checkCancellation()
                try apply(written[start..<min(start + 1000, written.count)].map { WorkflowUpsert(listed: $0, exportSHA256: hashes[$0.id]) })
            }
            for item in downloads.downloaded { try link(item.id, item.sha256) }
        }
        // The new objects reach the disk while the plan and the snapshots are written (a syncfs,
        // 165 ms of waiting after a first sync of 5,000 workflows), and before the stage commits.
        @Sendable func flushObjects(_ needed: Bool) async throws {
            if needed { try await BlockingWork.run { try objects.flush() } }
        }
        async let objectsFlushed: Void = flushObjects(linkedNewObjects)
        // What this run changed, from its records (an interrupted attempt's included). A workflow
        // an interrupted attempt created and this one updated (upstream changed in between) was
        // created by this run, with its latest export.
        // Kept small: a first sync records a change for every workflow of the tenant.
        struct Change {
            var isCreated: Bool
            var fields: [String]
            var before: String?
            var after: String?
        }
        var changes: [Int64: Change] = [:]
        if !storeMatchesListing {
            // The hash this run downloaded, as download-exports' result holds it (sorted by id):
            // the plan shares that text instead of holding a copy read from the records.
            func downloadedHash(_ id: Int64, equalTo sha256: String?) -> String? {
                let downloaded = downloads.downloaded
                var low = 0, high = downloaded.count
                while low < high {
                    let middle = (low + high) / 2
                    if downloaded[middle].id < id { low = middle + 1 } else { high = middle }
                }
                return low < downloaded.count && downloaded[low].id == id && downloaded[low].sha256 == sha256 ? downloaded[low].sha256 : sha256
            }
            try store.forEachChange(customerSlug: slug, runID: context.runID) { record in
                guard record.action == "created" || record.action == "updated" else { return }
                let change = Change(isCreated: record.action == "created", fields: record.action == "created" ? [] : record.changedFields,
                                    before: record.exportSHA256Before,
                                    after: downloadedHash(record.zuoraID, equalTo: record.exportSHA256After))
                guard let earlier = changes[record.zuoraID] else { changes[record.zuoraID] = change; return }
                var created = earlier.isCreated ? earlier : change
                created.after = (earlier.isCreated ? change : earlier).after
                changes[record.zuoraID] = created
            }
        }
        // In the listing's order, each workflow once (its first listing, as the store has it).
        var items: [Plan.Item] = []
        items.reserveCapacity(changes.count)
        for workflow in listing.workflows {
            guard let change = changes.removeValue(forKey: workflow.id) else { continue }
            items.append(Plan.Item(listed: workflow, action: change.isCreated ? .created : .updated,
                                   exportSHA256: change.after == change.before ? nil : change.after,
                                   changedFields: change.fields, previousExportSHA256: change.before))
        }
        items.sort { $0.listed.id < $1.listed.id }
        // Emptied above, but still as large as the tenant until let go.
        changes = [:]
        let plan = Plan(items: items, unchanged: listing.workflows.count - items.count, exportsStored: downloads.downloaded.count)
        // The plan is written while the snapshots are refreshed: a first sync's plan names every
        // workflow, and the two take about as long.
        let planFile = context.file(StageFiles.plan)
        async let planWritten = CanonicalJSON.write(plan, to: planFile)
        if !items.isEmpty {
            try context.services.snapshots.refresh(customerSlug: slug, store: store, placed: placedSnapshots)
        }
        _ = try await planWritten
        _ = try await objectsFlushed
        // plan.json and result.json hold only what changed.
        let result = Result(plan: plan, isApplied: true, listingSHA256: downloads.failed.isEmpty ? fingerprint : nil,
                            storeMatchedListing: storeMatchesListing)
        return StageOutput(result, status: .committed)
    }

    /// A dry run: what the stage would do, compared with the stored rows, in `plan.json`.
    private func planWithoutStoring(_ context: StageContext) throws -> StageOutput<Result> {
        let listing = try context.result(of: FetchWorkflowPages.self)
        let downloads = try context.result(of: DownloadExports.self)
        let stored = try context.services.store.storedWorkflows(customerSlug: context.customer.id)
        let written = writtenListing(listing.workflows, failed: Set(downloads.failed.map(\.id)), stored: stored)
        let plan = makePlan(listing: written, stored: stored, downloads: downloads)
        try CanonicalJSON.write(plan, to: context.file(StageFiles.plan))
        return StageOutput(Result(plan: plan, isApplied: false, listingSHA256: nil, storeMatchedListing: false), status: .dryRun)
    }

    /// The listing as the store gets it: a workflow whose export failed keeps the stored
    /// `updatedAt` and version (if it has a stored row).
    private func writtenListing(_ listed: [ListedWorkflow], failed: Set<Int64>, stored: [Int64: StoredWorkflow]) -> [ListedWorkflow] {
        guard !failed.isEmpty else { return listed }
        return listed.map { workflow in
            guard failed.contains(workflow.id), let existing = stored[workflow.id] else { return workflow }
            var kept = workflow
            kept.updatedAt = existing.updatedOn
            kept.activeVersion = existing.version
            return kept
        }
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["created": result.created, "updated": result.updated, "unchanged": result.unchanged, "exports_stored": result.exportsStored]
    }

    public static func summarize(_ result: Result, into summary: inout CustomerSummary) {
        summary.set("created", "\(result.created)", order: 10)
        summary.set("updated", "\(result.updated)", order: 20)
        summary.changes += result.changed.map { ($0.action == .created ? "+ " : "~ ") + "\($0.id) \($0.name)" }
    }

    private func makePlan(listing: [ListedWorkflow], stored: [Int64: StoredWorkflow], downloads: DownloadExports.Result) -> Plan {
        let hashes = Dictionary(uniqueKeysWithValues: downloads.downloaded.map { ($0.id, $0.sha256) })
        var items: [Plan.Item] = []
        var unchanged = 0, exportsStored = 0
        for listed in listing {
            let sha = hashes[listed.id]
            if sha != nil { exportsStored += 1 }
            guard let existing = stored[listed.id] else {
                items.append(Plan.Item(listed: listed, action: .created, exportSHA256: sha, changedFields: [], previousExportSHA256: nil))
                continue
            }
            var changed: [String] = []
            if existing.name != listed.name { changed.append("name") }
            if existing.status != listed.status { changed.append("status") }
            if existing.version != listed.activeVersion { changed.append("version") }
            if existing.updatedOn != listed.updatedAt { changed.append("updatedAt") }
            if let sha, sha != existing.exportSHA256 { changed.append("export") }
            if changed.isEmpty {
                unchanged += 1
            } else {
                items.append(Plan.Item(listed: listed, action: .updated, exportSHA256: sha, changedFields: changed,
                                       previousExportSHA256: existing.exportSHA256))
            }
        }
        return Plan(items: items, unchanged: unchanged, exportsStored: exportsStored)
    }
}
