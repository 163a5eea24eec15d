import Foundation
import GRDB
import GRDBSQLite
import Logging
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Issue 12: an unchanged resync does work proportional to what changed, exports are stored once
/// on disk, and the hot file formats go through the project's own JSON coder.
@Suite("Work proportional to changes")
struct ProportionalWorkTests {
    /// zuora_id → (last_synced_at, export_synced_at, description) of a customer's rows.
    static func rowTimes(_ workspace: TestWorkspace, _ slug: String) throws -> [Int64: [String?]] {
        try workspace.store.sqliteWriter!.read { db in
            var result: [Int64: [String?]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT w.zuora_id, w.last_synced_at, w.export_synced_at, w.description FROM workflows w
                JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?
                """, arguments: [slug]) {
                result[row["zuora_id"]] = [row["last_synced_at"], row["export_synced_at"], row["description"]]
            }
            return result
        }
    }

    static func savePlan(_ workspace: TestWorkspace, run: String, customer: String) throws -> SaveWorkflows.Plan {
        try CanonicalJSON.readVersioned(SaveWorkflows.Plan.self, from: workspace.data.stage(run: run, customer: customer, index: 4, stageID: "save-workflows")
            .appendingPathComponent(StageFiles.plan))
    }

    @Test func anUnchangedResyncRewritesNoRowAndAChangedFieldRewritesOnlyItsRow() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock, runID: "first")
        let first = try Self.rowTimes(workspace, "initech")
        #expect(first.count == 6)

        // Nothing changed upstream, even on a full pass that downloads every export again.
        clock.advance(seconds: 3600)
        try await workspace.sync(["initech"], clock: clock, options: RunOptions(full: true), runID: "second")
        #expect(try Self.rowTimes(workspace, "initech") == first)
        let plan = try Self.savePlan(workspace, run: "second", customer: "initech")
        #expect(plan.items.isEmpty && plan.unchanged == 6 && plan.exportsStored == 6)
        // ... and no workflow's tasks are extracted again, though extract-tasks ran beside the
        // downloads: every export is the stored one.
        let extract = try StageResultFile.read(ExtractTasks.Result.self, formatVersion: ExtractTasks.resultFormatVersion,
                                               in: workspace.data.stage(run: "second", customer: "initech", index: 5, stageID: "extract-tasks"))
        #expect(extract.workflows == 0 && extract.tasks == 0)

        // A listed field the plan does not count as a change (the description) still reaches its row.
        let items = try JSONValue.parse(Data(contentsOf: workspace.fixtures.appendingPathComponent("initech/workflows.json"))).arrayValue!
        let updatedAt = try #require(items.first { $0["id"]?.intValue == 41 }?["updatedAt"]?.stringValue)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: updatedAt) { item, _ in
            item["description"] = .string("edited upstream")
        }
        clock.advance(seconds: 3600)
        try await workspace.sync(["initech"], clock: clock, runID: "third")
        let third = try Self.rowTimes(workspace, "initech")
        #expect(third[41]?[2] == "edited upstream")
        #expect(third[41]?[0] != first[41]?[0])
        for (id, values) in first where id != 41 { #expect(third[id] == values) }
    }

    /// A full pass downloads every export; those already stored become links to their objects in
    /// the run's directory, not one more copy each, unless the object no longer holds them.
    @Test func aFullPassLinksTheRunsCopiesOfUnchangedExportsToTheirObjects() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock, runID: "first")
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        let stored = try workspace.store.indexEntries(customerSlug: "initech").compactMap { entry in entry.exportSHA256.map { (entry.id, $0) } }
        #expect(stored.count >= 3)
        // One object damaged on disk (its first run's copy with it: they are one file; that copy stays so).
        let (damagedID, damagedSHA) = stored[0]
        let handle = try FileHandle(forWritingTo: objects.url(for: damagedSHA))
        try handle.write(contentsOf: Data("X".utf8))
        try handle.close()

        clock.advance(seconds: 3600)
        var options = RunOptions()
        options.full = true
        try await workspace.sync(["initech"], clock: clock, options: options, runID: "second")
        let exports = workspace.data.stage(run: "second", customer: "initech", index: 3, stageID: "download-exports")
        func inode(_ url: URL) throws -> UInt64? {
            (try FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? NSNumber)?.uint64Value
        }
        for (id, sha256) in stored.dropFirst() {
            let copy = DownloadExports.exportFile(id, in: exports)
            #expect(try inode(copy) == inode(objects.url(for: sha256)), "workflow \(id): the run's copy is its object")
        }
        // The damaged object is replaced by the verified download, and the run's copy links to that.
        let copy = DownloadExports.exportFile(damagedID, in: exports)
        #expect(try inode(copy) == inode(objects.url(for: damagedSHA)))
        #expect(try Digest.sha256Hex(Data(contentsOf: copy)) == damagedSHA)
        #expect(objects.intactBytes(damagedSHA) != nil)
        let result = try StageResultFile.read(DownloadExports.Result.self, formatVersion: DownloadExports.resultFormatVersion, in: exports)
        #expect(result.isFullPass && result.downloaded.count == stored.count)
    }

    @Test func objectsAreHardLinksOfTheRunsExportCopiesAndSnapshotsAreNot() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"], runID: "first")
        let exports = workspace.data.stage(run: "first", customer: "initech", index: 3, stageID: "download-exports")
            .appendingPathComponent("exports")
        let store = try workspace.store
        let hashes = try store.exportHashes(customerSlug: "initech")
        #expect(hashes.count == 6)
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        func inode(_ url: URL) throws -> (ino: UInt, links: UInt) {
            var info = stat()
            try #require(lstat(url.path, &info) == 0, "\(url.path)")
            return (UInt(info.st_ino), UInt(info.st_nlink))
        }
        for (id, sha) in hashes {
            let copy = try inode(exports.appendingPathComponent("\(id).json"))
            let object = try inode(objects.url(for: sha))
            let snapshot = try inode(snapshots.workflowFile("initech", zuoraID: id))
            #expect(copy.ino == object.ino && copy.links == 2)
            // A snapshot may be edited by hand in place: it never shares the object's bytes.
            #expect(snapshot.ino != object.ino)
            #expect(try Data(contentsOf: snapshots.workflowFile("initech", zuoraID: id)) == Data(contentsOf: objects.url(for: sha)))
            _ = try objects.get(sha)
        }

        // An edit in place of a snapshot leaves the object whole, and the next refresh undoes it.
        let (id, sha) = try #require(hashes.min { $0.key < $1.key })
        let snapshotFile = snapshots.workflowFile("initech", zuoraID: id)
        let original = try Data(contentsOf: snapshotFile)
        let handle = try FileHandle(forWritingTo: snapshotFile)
        try handle.write(contentsOf: Data("{\"edited\": true}  ".utf8))
        try handle.close()
        #expect(objects.intactBytes(sha) != nil)
        try snapshots.refresh(customerSlug: "initech", store: store)
        #expect(try Data(contentsOf: snapshotFile) == original)

        // A damaged object is not copied into a snapshot: the snapshot comes from the store.
        let (otherID, otherSHA) = try #require(hashes.filter { $0.key != id }.min { $0.key < $1.key })
        let objectHandle = try FileHandle(forWritingTo: objects.url(for: otherSHA))
        try objectHandle.write(contentsOf: Data("{\"damaged\": 1}  ".utf8))
        try objectHandle.close()
        #expect(objects.intactBytes(otherSHA) == nil)
        try FileManager.default.removeItem(at: snapshots.workflowFile("initech", zuoraID: otherID))
        try snapshots.refresh(customerSlug: "initech", store: store)
        let restored = try Data(contentsOf: snapshots.workflowFile("initech", zuoraID: otherID))
        #expect(Digest.sha256Hex(restored) == otherSHA)
    }

    /// A refresh that accepts an earlier check (the run's closing refresh, after save-workflows'
    /// own) does not look at each file again while the store, the index and the stats are as that
    /// check left them; it checks every file once any of them changed, or with another writer.
    @Test func aSecondRefreshAcceptsTheWholeCheckJustMadeUntilSomethingChanged() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"], runID: "first")
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        let entries = try workspace.store.indexEntries(customerSlug: "initech").filter { $0.exportSHA256 != nil }.sorted { $0.id < $1.id }
        let first = try #require(entries.first), second = try #require(entries.dropFirst().first)
        let firstFile = snapshots.workflowFile("initech", zuoraID: first.id)
        let original = try Data(contentsOf: firstFile)
        try snapshots.refresh(customerSlug: "initech", store: workspace.store)

        // Removed behind the writer's back: an accepted check does not notice, a whole one does.
        try FileManager.default.removeItem(at: firstFile)
        #expect(try snapshots.refresh(customerSlug: "initech", store: workspace.store, acceptingAnEarlierCheck: true) == (0, 0))
        #expect(!FileManager.default.fileExists(atPath: firstFile.path))
        #expect(try snapshots.refresh(customerSlug: "initech", store: workspace.store) == (1, 0))
        #expect(try Data(contentsOf: firstFile) == original)

        // Another writer (another run) has made no check of its own.
        try FileManager.default.removeItem(at: firstFile)
        let other = SnapshotWriter(dataDirectory: workspace.data.root)
        #expect(try other.refresh(customerSlug: "initech", store: workspace.store, acceptingAnEarlierCheck: true) == (1, 0))

        // The stats file or the index file changed by someone else since the writer's last whole
        // check: every file is checked again.
        for changed in [snapshots.statsFile("initech"), snapshots.indexFile("initech")] {
            #expect(try snapshots.refresh(customerSlug: "initech", store: workspace.store) == (0, 0))
            try FileManager.default.removeItem(at: firstFile)
            let modified = try #require(try FileManager.default.attributesOfItem(atPath: changed.path)[.modificationDate] as? Date)
            try FileManager.default.setAttributes([.modificationDate: modified.addingTimeInterval(2)], ofItemAtPath: changed.path)
            #expect(try snapshots.refresh(customerSlug: "initech", store: workspace.store, acceptingAnEarlierCheck: true) == (1, 0),
                    "\(changed.lastPathComponent) changed")
            #expect(try Data(contentsOf: firstFile) == original)
        }

        // The store changed (a workflow left it): every file is checked again.
        try FileManager.default.removeItem(at: firstFile)
        try workspace.store.deleteWorkflows(customerSlug: "initech", zuoraIDs: [second.id])
        let counts = try snapshots.refresh(customerSlug: "initech", store: workspace.store, acceptingAnEarlierCheck: true)
        #expect(counts.written >= 1 && counts.removed == 1)
        #expect(try Data(contentsOf: firstFile) == original)
        #expect(!FileManager.default.fileExists(atPath: snapshots.workflowFile("initech", zuoraID: second.id).path))
    }

    /// The refresh reads the store's index twice (to hash it, then to write index.json): an export
    /// that changes in between (another process, another host) leaves the older file this time, and
    /// the next refresh writes the newer one, though the index it finds already names it.
    @Test func anExportChangedBetweenTheRefreshsTwoReadsIsWrittenByTheNextRefresh() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"], runID: "first")
        let exports = try workspace.store.exports(customerSlug: "initech").sorted { $0.zuoraID < $1.zuoraID }
        let changed = try #require(exports.first), donor = try #require(exports.last)
        #expect(changed.sha256 != donor.sha256)
        let store = try workspace.store
        let racing = SnapshotWriter(dataDirectory: workspace.data.root, betweenIndexReads: {
            try? store.sqliteWriter!.write { db in
                try db.execute(sql: "UPDATE workflows SET export = ?, export_sha256 = ? WHERE zuora_id = ?",
                               arguments: [donor.text, donor.sha256, changed.zuoraID])
            }
        })
        let file = racing.workflowFile("initech", zuoraID: changed.zuoraID)
        // The index must be written: someone touched it.
        try Data("[]".utf8).write(to: racing.indexFile("initech"))
        try racing.refresh(customerSlug: "initech", store: store)
        #expect(Digest.sha256Hex(try Data(contentsOf: file)) == changed.sha256, "the first read's export, this time")
        let written = try CanonicalJSON.read([SnapshotIndexEntry].self, from: racing.indexFile("initech"))
        #expect(written.first { $0.id == changed.zuoraID }?.exportSHA256 == donor.sha256, "the index names the newer export")
        try SnapshotWriter(dataDirectory: workspace.data.root).refresh(customerSlug: "initech", store: store)
        #expect(Digest.sha256Hex(try Data(contentsOf: file)) == donor.sha256)
    }

    /// An unchanged run neither reads nor rewrites the snapshot index and stats; a hand edit of the
    /// index is still undone, and a changed store still rewrites it.
    @Test func anUnchangedRunLeavesTheSnapshotIndexAndStatsAloneButUndoesAHandEdit() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock, runID: "first")
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        let index = snapshots.indexFile("initech"), stats = snapshots.statsFile("initech")
        let indexStamp = SnapshotWriter.stamp(index), statsStamp = SnapshotWriter.stamp(stats)
        let indexBytes = try Data(contentsOf: index)
        #expect(indexStamp != nil && statsStamp != nil)

        clock.advance(seconds: 3600)
        try await workspace.sync(["initech"], clock: clock, runID: "second")
        #expect(SnapshotWriter.stamp(index) == indexStamp, "the index was not rewritten")
        #expect(SnapshotWriter.stamp(stats) == statsStamp, "the stats were not rewritten")

        // A hand edit of the index is noticed by its stamp and undone.
        try Data("[]".utf8).write(to: index)
        clock.advance(seconds: 3600)
        try await workspace.sync(["initech"], clock: clock, runID: "third")
        #expect(try Data(contentsOf: index) == indexBytes)

        // A changed store (a workflow renamed upstream) rewrites the index.
        let items = try JSONValue.parse(Data(contentsOf: workspace.fixtures.appendingPathComponent("initech/workflows.json"))).arrayValue!
        let updatedAt = try #require(items.first { $0["id"]?.intValue == 41 }?["updatedAt"]?.stringValue)
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: updatedAt) { item, _ in
            item["name"] = .string("Renamed upstream")
        }
        clock.advance(seconds: 3600)
        try await workspace.sync(["initech"], clock: clock, runID: "fourth")
        let entries = try CanonicalJSON.read([SnapshotIndexEntry].self, from: index)
        #expect(entries.first { $0.id == 41 }?.name == "Renamed upstream")
        #expect(try workspace.store.indexEntries(customerSlug: "initech") == entries)
    }

    @Test func migrationsV3AndV4MoveTheExportLastAndTheTaskSourceOutKeepingBoth() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-migration-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("store.sqlite")
        do {
            let queue = try DatabaseQueue(path: url.path)
            try StoreSchema.migrator.migrate(queue, upTo: "v2-history")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO customers (slug, name, base_url) VALUES ('acme', 'Acme', 'fixture://acme')")
                try db.execute(sql: """
                    INSERT INTO workflows (customer_id, zuora_id, name, export, export_sha256, last_synced_at, tasks_export_sha256)
                    VALUES (1, 7, 'w', '{"a": 1}', 'abc', 'then', 'abc')
                    """)
                try db.execute(sql: "INSERT INTO tasks (workflow_id, zuora_task_id, name) VALUES (1, 1, 't')")
            }
        }
        let store = try Store(url: url)
        try store.sqliteWriter!.read { db in
            let columns = try db.columns(in: "workflows").map(\.name)
            #expect(columns.last == "export")
            #expect(Set(columns) == ["id", "customer_id", "zuora_id", "name", "description", "status", "type", "version", "active_version_id",
                                     "callout_trigger", "ondemand_trigger", "scheduled_trigger", "interval", "timezone", "created_on",
                                     "updated_on", "export", "export_sha256", "export_synced_at", "last_synced_at"])
            #expect(try String.fetchOne(db, sql: "SELECT export FROM workflows WHERE zuora_id = 7") == #"{"a": 1}"#)
            #expect(try String.fetchOne(db, sql: "SELECT export_sha256 FROM workflows WHERE zuora_id = 7") == "abc")
            // v4: which export the tasks came from moved to task_sources.
            #expect(try String.fetchOne(db, sql: "SELECT export_sha256 FROM task_sources WHERE workflow_id = 1") == "abc")
        }
        #expect(try store.workflowsWithStaleTasks(customerSlug: "acme").isEmpty, "the tasks extracted before the upgrade stay current")
        // Foreign keys still hold: deleting the workflow removes its task.
        try store.deleteWorkflows(customerSlug: "acme", zuoraIDs: [7])
        #expect(try store.sqliteWriter!.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks") } == 0)
        #expect(try store.sqliteWriter!.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM task_sources") } == 0)
    }

    @Test func aFormatOnePlanStillReads() throws {
        let listed = #"{"id": 5, "name": "five"}"#
        let text = """
            {"formatVersion": 1, "isApplied": true, "items": [
              {"action": "unchanged", "changedFields": [], "exportSHA256": "aa", "listed": \(listed)},
              {"action": "updated", "changedFields": ["name"], "listed": \(listed)},
              {"action": "created", "changedFields": [], "exportSHA256": "bb", "listed": \(listed)}]}
            """
        let plan = try CanonicalJSON.decode(SaveWorkflows.Plan.self, from: Data(text.utf8))
        #expect(plan.items.map(\.action) == [.updated, .created])
        #expect(plan.unchanged == 1 && plan.exportsStored == 2 && plan.isApplied == true)
    }

    struct Sample: Codable, Equatable {
        enum Kind: String, Codable { case one, two }
        struct Inner: Codable, Equatable { var values: [Int64]; var flag: Bool? }
        var name: String
        var when: Date
        var kind: Kind
        var ratio: Double
        var whole: Double
        var count: Int
        var missing: String?
        var inner: [Inner]
        var byName: [String: Int]
        var url: URL
        var any: JSONValue
        var nested: [[Inner]]
        var wrapped: Wrapper
        var deep: [String: [String: Inner]]
        var wrappedList: ListWrapper
    }

    /// Encodes a list through a single-value container, below the top of the file.
    struct ListWrapper: Codable, Equatable {
        var items: [Sample.Inner]
        init(items: [Sample.Inner]) { self.items = items }
        init(from decoder: any Decoder) throws { items = try decoder.singleValueContainer().decode([Sample.Inner].self) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(items)
        }
    }

    /// Encodes a struct through a single-value container (a value at its parent's place).
    struct Wrapper: Codable, Equatable {
        var inner: Sample.Inner
        init(inner: Sample.Inner) { self.inner = inner }
        init(from decoder: any Decoder) throws { inner = try decoder.singleValueContainer().decode(Sample.Inner.self) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(inner)
        }
    }

    static let sample = Sample(name: "Ünïcödé \"quoted\"\n", when: Date(timeIntervalSince1970: 1_700_000_000.123), kind: .two, ratio: 0.5,
                               whole: 2, count: -3, missing: nil, inner: [.init(values: [1, 2], flag: nil), .init(values: [], flag: true)],
                               byName: ["b": 2, "a": 1], url: URL(string: "https://rest.zuora.com/v1")!,
                               any: .object(["x": .array([.null, .double(1.25)])]),
                               nested: [[], [.init(values: [7], flag: false)], [.init(values: [8, 9], flag: nil), .init(values: [], flag: true)]],
                               wrapped: Wrapper(inner: .init(values: [3], flag: true)),
                               deep: ["z": ["k": .init(values: [1], flag: nil)], "a": [:]],
                               wrappedList: ListWrapper(items: [.init(values: [4, 5], flag: true), .init(values: [], flag: nil)]))

    @Test func theProjectsCoderWritesWhatFoundationsEncoderWroteAndReadsItBack() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        let foundation = try JSONValue.parse(encoder.encode(Self.sample)).canonicalData()
        let ours = try CanonicalJSON.encode(Self.sample)
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        // Each nested value is written as soon as it is encoded: the same bytes at every depth,
        // in the compact line form and with a version field added at the top.
        #expect(try CanonicalJSON.encodeLine(Self.sample) == JSONValue.parse(foundation).compactCanonicalString())
        guard case .object(var fields) = try JSONValue.parse(foundation) else { Issue.record("not an object"); return }
        fields["formatVersion"] = .int(3)
        #expect(try CanonicalJSON.encode(Self.sample, formatVersion: 3) == JSONValue.object(fields).canonicalData())
        #expect(throws: FileError.self) { try CanonicalJSON.encode([1, 2], formatVersion: 1) }
        // A list at the top, whose items are encoded as the file is written, and lists in it.
        for list in [[Self.sample, Self.sample], []] {
            #expect(try CanonicalJSON.encode(list) == JSONValue.parse(encoder.encode(list)).canonicalData())
        }
        #expect(try CanonicalJSON.encode(Self.sample.nested) == JSONValue.parse(encoder.encode(Self.sample.nested)).canonicalData())
        var expected = Self.sample
        expected.when = try #require(Timestamp.parse(Timestamp.format(Self.sample.when)))
        #expect(try CanonicalJSON.decode(Sample.self, from: ours) == expected)
    }

    /// A key encoded again is written once, with its last value, in the one-line form too
    /// (Foundation's encoder stops the process on the nested container here).
    @Test func aKeyEncodedTwiceIsWrittenOnceWithItsLastValue() throws {
        struct Twice: Encodable {
            enum Key: String, CodingKey { case b, a, c }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(1, forKey: .a)
                try container.encode("x", forKey: .b)
                try container.encode(2, forKey: .a)
                try container.encode(3, forKey: .c)
                var nested = container.nestedContainer(keyedBy: Key.self, forKey: .b)
                try nested.encode(true, forKey: .a)
            }
        }
        let expected = JSONValue.object(["a": .int(2), "b": .object(["a": .bool(true)]), "c": .int(3)]).canonicalData()
        #expect(try CanonicalJSON.encode(Twice()) == expected)
        #expect(try CanonicalJSON.encodeLine(Twice()) == JSONValue.parse(expected).compactCanonicalString())
    }

    /// A nested value is kept as its bytes until the file is written, at about its size: a map of
    /// 20,000 small values (a snapshot tree's file stamps) must not hold a spare buffer each.
    @Test func nestedValuesAreKeptAtAboutTheirSize() throws {
        for value in [Sample.Inner(values: [1], flag: nil), Sample.Inner(values: [1, 2, 3, 4, 5, 6, 7, 8], flag: true),
                      Sample.Inner(values: Array(0..<200), flag: true)] {
            guard case .rendered(let bytes) = try JSONValueEncoder.box(value, codingPath: [], depth: 2, pretty: true) else {
                Issue.record("a nested value is rendered"); continue
            }
            #expect(bytes.capacity <= bytes.count + bytes.count / 8 + 32, "\(bytes.count) bytes kept in \(bytes.capacity)")
        }
    }

    /// A list at the top or in a top-level field is written item by item from the array itself:
    /// not from a copy with each item boxed (`[any Encodable]`: 4.8 MB for a plan of 20,000).
    @Test func listsAreWrittenFromTheArrayItselfNotFromABoxedCopy() throws {
        let items = [Self.sample, Self.sample]
        guard case .lazyArray(let top) = try JSONValueEncoder.box(items, codingPath: [], depth: 0, pretty: true) else {
            Issue.record("a list at the top is written item by item"); return
        }
        #expect(type(of: top.items) == [Sample].self && top.items.count == 2)
        guard case .object(let object) = try JSONValueEncoder.box(["items": items], codingPath: [], depth: 0, pretty: true),
              case .lazyArray(let field)? = object.items["items"] else {
            Issue.record("a list in a top-level field is written item by item"); return
        }
        #expect(type(of: field.items) == [Sample].self)
        // The same bytes as the items written one by one.
        #expect(try CanonicalJSON.encode(["items": items]) == JSONValue.object(["items": .array([
            JSONValue.parse(CanonicalJSON.encode(Self.sample)), JSONValue.parse(CanonicalJSON.encode(Self.sample)),
        ])]).canonicalData())
    }

    /// A dictionary in a top-level field (a snapshot tree's stats: a stamp for each of 20,000
    /// files) is written value by value from the dictionary itself, in the bytes of the whole
    /// object; a dictionary at the top stays an object, to which a version field is added.
    @Test func dictionariesInTopLevelFieldsAreWrittenValueByValue() throws {
        struct Stamp: Codable { var size: Int64; var label: String? }
        struct Holder: Codable { var files: [String: Stamp]; var version: Int }
        var files: [String: Stamp] = [:]
        for index in 0..<4_000 { files["\(index).json"] = Stamp(size: Int64(index) * 7, label: index % 3 == 0 ? nil : "x\"\u{e9}\n\(index)") }
        // Keys whose order differs between UTF-8 bytes and other comparisons.
        for key in ["\u{e9}", "z", "Z", "a\"b", "", "\u{1F600}", "\u{FF5E}"] { files[key] = Stamp(size: 1, label: key) }
        let holder = Holder(files: files, version: 2)
        guard case .object(let object) = try JSONValueEncoder.box(holder, codingPath: [], depth: 0, pretty: true),
              case .lazyObject(let field)? = object.items["files"] else {
            Issue.record("a dictionary in a top-level field is written value by value"); return
        }
        #expect(type(of: field.items) == [String: Stamp].self)
        let expected = JSONValue.object([
            "files": .object(try files.mapValues { try JSONValue.parse(CanonicalJSON.encode($0)) }), "version": .int(2),
        ]).canonicalData()
        #expect(try CanonicalJSON.encode(holder) == expected)
        #expect(expected.count > 3 * 65_536, "written in several pieces")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-object-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        PathSafety.protect(root)
        try CanonicalJSON.write(holder, to: root.appendingPathComponent("stats.json"))
        #expect(try Data(contentsOf: root.appendingPathComponent("stats.json")) == expected)
        #expect(try CanonicalJSON.encode(Holder(files: [:], version: 1)) == JSONValue.object(["files": .object([:]), "version": .int(1)]).canonicalData())
        // At the top: an object, with the version field added.
        #expect(try CanonicalJSON.encode(["b": 1, "a": 2], formatVersion: 4)
            == JSONValue.object(["a": .int(2), "b": .int(1), "formatVersion": .int(4)]).canonicalData())
    }

    /// The listing's workflows share their fields between copies until one is changed, and are
    /// written with the same keys as before (no trace of the shared storage in the files).
    @Test func listedWorkflowCopiesShareTheirFieldsUntilChanged() throws {
        let item: JSONValue = .object(["id": .int(7), "name": .string("Renewals"), "status": .string("Active"),
                                       "updatedAt": .string("2026-11-29T10:00:00Z"), "ondemandTrigger": .bool(true),
                                       "active_version": .object(["id": .int(70), "version": .string("1.2"), "type": .string("Workflow::Setup")])])
        let original = try #require(ListedWorkflow(item: item))
        var copy = original
        #expect(copy == original)
        #expect(try #require(ListedWorkflow(item: item)) == original, "equal fields in storages of their own")
        copy.updatedAt = "2026-11-30T00:00:00.000Z"
        copy.activeVersion = "1.3"
        #expect(original.updatedAt == Timestamp.normalize("2026-11-29T10:00:00Z") && original.activeVersion == "1.2")
        #expect(copy.updatedAt == "2026-11-30T00:00:00.000Z" && copy.activeVersion == "1.3" && copy.name == "Renewals")
        #expect(copy != original)
        let encoded = try CanonicalJSON.encode(original)
        // The keys of the files written before the storage was shared.
        #expect(try JSONValue.parse(encoded) == JSONValue.object([
            "id": .int(7), "name": .string("Renewals"), "status": .string("Active"), "updatedAt": .string("2026-11-29T10:00:00.000Z"),
            "ondemandTrigger": .bool(true), "activeVersionID": .int(70), "activeVersion": .string("1.2"), "activeVersionType": .string("Workflow::Setup"),
        ]))
        #expect(try CanonicalJSON.decode(ListedWorkflow.self, from: encoded) == original)
        #expect(MemoryLayout<ListedWorkflow>.size == MemoryLayout<Int>.size, "a copy is one reference")
        // Times are held as numbers when their text is the canonical form, as text otherwise:
        // either way they read back exactly as set.
        #expect(original.createdAt == nil && original.updatedAt == "2026-11-29T10:00:00.000Z")
        #expect(ListedWorkflow.PackedTimestamp("2026-11-29T10:00:00.000Z") == .milliseconds(1_795_946_400_000))
        #expect(ListedWorkflow.PackedTimestamp("0001-01-01T00:00:00.000Z") == .milliseconds(-62_135_596_800_000))
        for text in ["2026-11-29T10:00:00Z", "2026-11-29 10:00:00", "not a time", ""] {
            #expect(ListedWorkflow.PackedTimestamp(text) == .other(text))
            copy.createdAt = text
            #expect(copy.createdAt == text)
            #expect(try CanonicalJSON.decode(ListedWorkflow.self, from: CanonicalJSON.encode(copy)).createdAt == text)
        }
        #expect(ListedWorkflow.PackedTimestamp(nil) == .absent)
        // A listed time whose canonical text does not survive parsing's rounding: packed from the
        // listing, kept as text when read back from a file, and equal either way.
        let rounded = try #require(ListedWorkflow(item: .object(["id": .int(8), "name": .string("x"), "updatedAt": .string("2004-04-10T18:08:28.9395Z")])))
        let readBack = try CanonicalJSON.decode(ListedWorkflow.self, from: CanonicalJSON.encode(rounded))
        #expect(readBack.updatedAt == rounded.updatedAt && readBack == rounded)
    }

    /// A hash held as 32 bytes reads back as the text it was made from, and compares as that
    /// text did: text that is not a lower-case hex SHA-256 is kept as it is.
    @Test func hashesHeldAsBytesCompareAndReadBackAsTheirText() {
        let hex = Digest.sha256Hex("an export")
        #expect(SHA256Hash(hex: hex).hex == hex)
        #expect(SHA256Hash(hex: hex) == SHA256Hash(hex: hex))
        #expect(SHA256Hash(hex: hex) != SHA256Hash(hex: Digest.sha256Hex("another export")))
        #expect(Set([SHA256Hash(hex: hex), SHA256Hash(hex: String(decoding: Array(hex.utf8), as: UTF8.self))]).count == 1)
        for other in [hex.uppercased(), String(hex.dropLast()), hex + "0", "", "zz" + hex.dropFirst(2), String(repeating: "0", count: 64)] {
            #expect(SHA256Hash(hex: other).hex == other)
            #expect((SHA256Hash(hex: other) == SHA256Hash(hex: hex)) == (other == hex))
        }
        #expect(SHA256Hash(hex: String(repeating: "0", count: 64)) != SHA256Hash(hex: "0"))
    }

    /// A list written item by item (the snapshot index and a state's list, from a database cursor)
    /// has exactly the bytes of the whole array encoded, empty or past several pieces, and an
    /// unchanged file is not written again.
    @Test func aListWrittenItemByItemHoldsTheBytesOfTheWholeArray() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-list-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        PathSafety.protect(root)
        let file = root.appendingPathComponent("index.json")
        let many = (0..<2_000).map { index in
            SnapshotIndexEntry(id: Int64(index), name: "Workflow \(index) \u{e9}\"\n", status: index % 2 == 0 ? "Active" : nil,
                               updatedAt: "2026-11-29T00:00:00.000Z", version: nil, exportSHA256: String(repeating: "ab", count: 32))
        }
        for entries in [[], Array(many.prefix(1)), many] {
            let expected = try CanonicalJSON.encode(entries)
            #expect(try CanonicalList<SnapshotIndexEntry>.encode { list in for entry in entries { try list.append(entry) } } == expected)
            #expect(try CanonicalList<SnapshotIndexEntry>.write(to: file) { list in for entry in entries { try list.append(entry) } })
            #expect(try Data(contentsOf: file) == expected)
            #expect(try !CanonicalList<SnapshotIndexEntry>.write(to: file) { list in for entry in entries { try list.append(entry) } })
        }
        #expect(try CanonicalJSON.encode(many).count > 3 * 65_536, "the long list is written in several pieces")
    }

    /// A cached SQLite statement does not keep the values it last ran with: multi-row statements
    /// are one cached statement per number of rows, and each held 100 exports until run again.
    @Test func cachedStatementsLetGoOfTheirArgumentsOnceRun() throws {
        let queue = try DatabaseQueue()
        let database = GRDBDatabase(writer: queue, location: ":memory:")
        let export = String(repeating: "x", count: 100_000)
        let insert = "INSERT INTO t (a) VALUES (?), (?)", select = "SELECT a FROM t WHERE a = ?"
        var seen = 0
        try database.write { session in
            try session.execute("CREATE TABLE t (a TEXT)", [])
            try session.execute(insert, [.text(export), .text(export)])
            try session.forEachRow(select, [.text(export)]) { _ in seen += 1 }
        }
        #expect(seen == 2)
        let kept = try queue.inDatabase { db in
            (try db.cachedStatement(sql: insert).arguments, try db.cachedStatement(sql: select).arguments)
        }
        #expect(kept.0.isEmpty && kept.1.isEmpty, "\(kept)".count > 1000 ? "arguments kept" : "\(kept)")
        // The same statements run again with other values.
        try database.write { try $0.execute(insert, [.text("a"), .text("b")]) }
        let count: Int64 = try #require(try database.read { try $0.query("SELECT COUNT(*) AS n FROM t WHERE a IN (?, ?)", [.text("a"), .text("b")]) }.first)["n"]
        #expect(count == 2)
        #expect(try database.read { try $0.query(select, [.text("a")]) }.count == 1)
    }

    /// Statements with many parameters (multi-row inserts, long `IN` lists) are prepared for each
    /// use and let go: with batches of every size, each size was a cached program of its own.
    @Test func statementsWithManyParametersAreNotKeptPrepared() throws {
        let queue = try DatabaseQueue()
        let database = GRDBDatabase(writer: queue, location: ":memory:")
        func livePrepared() throws -> Int {
            try queue.inDatabase { db in
                var count = 0
                var statement = sqlite3_next_stmt(db.sqliteConnection, nil)
                while let current = statement {
                    count += 1
                    statement = sqlite3_next_stmt(db.sqliteConnection, current)
                }
                return count
            }
        }
        var found = 0
        func run(rows: ClosedRange<Int>) throws {
            try database.write { session in
                for count in rows {
                    let values = (0..<count).map { SQLValue.integer(Int64($0)) }
                    try session.execute("INSERT INTO t (a) VALUES " + Array(repeating: "(?)", count: count).joined(separator: ", "), values)
                    try session.forEachRow("SELECT a FROM t WHERE a IN (" + Array(repeating: "?", count: count).joined(separator: ", ") + ")", values) { _ in
                        found += 1
                    }
                }
            }
        }
        try database.write { try $0.execute("CREATE TABLE t (a INTEGER)", []) }
        let before = try livePrepared()
        try run(rows: 60...64)
        let cached = try livePrepared()
        #expect(cached == before + 10, "the small ones (5 inserts, 5 selects) are kept")
        try run(rows: 65...80)
        #expect(try livePrepared() == cached, "statements of more than \(GRDBSession.largestCachedStatement) parameters are not kept")
        // Each statement ran: the insert of n rows stored 0..<n, and the IN list of 0..<n found every row below n.
        let inserted: Int64 = try #require(try database.read { try $0.query("SELECT COUNT(*) AS n FROM t", []) }.first)["n"]
        #expect(inserted == Int64((60...80).reduce(0, +)))
        var expectedFound = 0
        for count in 60...80 { expectedFound += (60...count).reduce(0, +) }
        #expect(found == expectedFound)
    }

    /// A large file is written in pieces as it is encoded: the file holds exactly the bytes of
    /// `encode`, whichever size the pieces and the memory limit are, and an unchanged file is left
    /// alone (no write, no temporary file left behind).
    @Test func aFileWrittenInPiecesHoldsTheEncodedBytesAndIsLeftAloneWhenUnchanged() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-pieces-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        PathSafety.protect(root)
        let file = root.appendingPathComponent("big.json")
        let many = (0..<300).map { index in Sample.Inner(values: [Int64(index), 2], flag: index % 3 == 0 ? nil : true) }
        let expected = try CanonicalJSON.encode(["items": many], formatVersion: 4)
        func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() }
        func write(_ value: [Sample.Inner], memoryLimit: Int, pieceSize: Int) throws -> Bool {
            try AtomicFile.writeIfChanged(to: file, memoryLimit: memoryLimit) { emit in
                try JSONValueEncoder.writeCanonical(["items": value], pretty: true, extraFields: ["formatVersion": .int(4)], pieceSize: pieceSize, emit: emit)
                try emit([0x0A])
            }
        }
        // Spilled to a temporary file early (small memory limit, small pieces).
        #expect(try write(many, memoryLimit: 100, pieceSize: 64))
        #expect(try Data(contentsOf: file) == expected)
        #expect(try entries() == ["big.json"])
        let stamp = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        // The same bytes in other pieces: nothing written, the temporary file removed.
        #expect(try !write(many, memoryLimit: 1000, pieceSize: 500))
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date == stamp)
        #expect(try entries() == ["big.json"])
        // A prefix of the file, a longer file and a change of one byte are all written.
        for changed in [Array(many.dropLast()), many + [Sample.Inner(values: [], flag: nil)],
                        many.enumerated().map { $0.offset == 150 ? Sample.Inner(values: [151, 2], flag: true) : $0.element }] {
            #expect(try write(changed, memoryLimit: 100, pieceSize: 64))
            #expect(try Data(contentsOf: file) == CanonicalJSON.encode(["items": changed], formatVersion: 4))
            #expect(try entries() == ["big.json"])
        }
        // Below the memory limit, the same result through the in-memory path, and through
        // `CanonicalJSON.write`.
        #expect(try write(many, memoryLimit: 1 << 20, pieceSize: 1 << 16))
        #expect(try Data(contentsOf: file) == expected)
        #expect(try !CanonicalJSON.write(["items": many], formatVersion: 4, to: file))
        #expect(throws: FileError.self) { try CanonicalJSON.write([1, 2], formatVersion: 1, to: file) }
        #expect(try Data(contentsOf: file) == expected)
    }

    @Test func aWrongTypeNamesItsKeyPath() throws {
        let text = #"{"values": [1, "two"]}"#
        #expect {
            _ = try CanonicalJSON.decode(Sample.Inner.self, from: Data(text.utf8))
        } throws: { error in
            guard case DecodingError.typeMismatch(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["values", "Index 1"]
        }
    }
}

@Suite("Atomic writes remember checked directories")
struct CheckedDirectoryTests {
    @Test func aDirectoryRemovedAfterAWriteIsCreatedAgainAndALinkPlantedBeforeARunIsRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-atomic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        PathSafety.protect(root)
        let folder = root.appendingPathComponent("a/b")
        try AtomicFile.write(Data("1".utf8), to: folder.appendingPathComponent("x.json"), durable: false)
        try FileManager.default.removeItem(at: root.appendingPathComponent("a"))
        try AtomicFile.write(Data("2".utf8), to: folder.appendingPathComponent("x.json"), durable: false)
        #expect(try Data(contentsOf: folder.appendingPathComponent("x.json")) == Data("2".utf8))

        // A link where the folder was: refused once the checked directories are forgotten (as every run starts).
        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.removeItem(at: folder)
        try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: elsewhere)
        AtomicFile.forgetCheckedDirectories()
        #expect(throws: FileError.self) {
            try AtomicFile.write(Data("3".utf8), to: folder.appendingPathComponent("x.json"), durable: false)
        }
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("x.json").path))
    }
}

/// Issue 12, fourth round: an export is parsed once (download-exports hands its tasks to
/// extract-tasks), and snapshot files are written as exports are stored, not all at the end.
@Suite("Work done once while streaming")
struct StreamedWorkTests {
    static let bulk = CustomerConfig(id: "bulk", name: "Bulk", baseURL: URL(string: "fixture://bulk")!, clientID: "bulk-client",
                                     secret: .inline("bulk-secret"))

    static func syncBulk(_ workspace: TestWorkspace, clock: ManualClock) async throws -> RunManifest {
        let run = try await workspace.runner(transport: FixtureTransport(mock: workspace.mock(clock: clock)), clock: clock)
            .start(pipeline: try workspace.pipeline(), pipelinePath: "pipelines/sync-workflows.yaml", customers: [bulk], options: RunOptions())
        #expect(run.status == .succeeded)
        return run
    }

    @Test func theHandOffGivesTheTasksOfTheStoredExportOnceAndDropsTheOldestPastItsBound() {
        func extraction(_ warning: String) -> TaskExtraction {
            var extraction = TaskExtraction()
            extraction.warnings = [warning]
            return extraction
        }
        let handOff = ExtractionHandOff(byteLimit: 100)
        handOff.put(extraction("first"), id: 1, sha256: "aa", bytes: 60)
        #expect(handOff.take(id: 1, sha256: "bb") == nil, "another export of the same workflow")
        #expect(handOff.take(id: 2, sha256: "aa") == nil, "the same export hash under another workflow")
        #expect(handOff.take(id: 1, sha256: "aa")?.warnings == ["first"])
        #expect(handOff.take(id: 1, sha256: "aa") == nil, "taken once")

        handOff.put(extraction("first"), id: 1, sha256: "aa", bytes: 60)
        handOff.put(extraction("second"), id: 2, sha256: "cc", bytes: 30)
        handOff.put(extraction("third"), id: 3, sha256: "dd", bytes: 30)   // 120 bytes: the oldest goes
        #expect(handOff.take(id: 1, sha256: "aa") == nil)
        #expect(handOff.take(id: 3, sha256: "dd")?.warnings == ["third"])
        #expect(handOff.usage.count == 1 && handOff.usage.bytes == 30 && handOff.usage.dropped == 1 && handOff.usage.taken == 2)
        // Kept again under the same key: counted once.
        handOff.put(extraction("second again"), id: 2, sha256: "cc", bytes: 30)
        #expect(handOff.usage.count == 1 && handOff.usage.bytes == 30)
        #expect(handOff.take(id: 2, sha256: "cc")?.warnings == ["second again"])
        #expect(handOff.usage.count == 0 && handOff.usage.bytes == 0)

        // A key kept again is as new as its latest keeping: its first place drops nothing.
        handOff.put(extraction("A"), id: 10, sha256: "a", bytes: 40)
        handOff.put(extraction("B"), id: 11, sha256: "b", bytes: 40)
        handOff.put(extraction("A again"), id: 10, sha256: "a", bytes: 40)   // 80 bytes
        handOff.put(extraction("C"), id: 12, sha256: "c", bytes: 30)         // 110: B, the oldest, goes
        #expect(handOff.take(id: 11, sha256: "b") == nil)
        #expect(handOff.take(id: 10, sha256: "a")?.warnings == ["A again"])
        #expect(handOff.take(id: 12, sha256: "c")?.warnings == ["C"])
        #expect(handOff.usage.count == 0 && handOff.usage.bytes == 0)

        // Taken as fast as kept, nothing is dropped, and the order of what was kept stays short.
        let large = ExtractionHandOff(byteLimit: 1 << 30)
        for id in Int64(1)...5000 {
            large.put(extraction("w"), id: id, sha256: "s", bytes: 10)
            _ = large.take(id: id, sha256: "s")
        }
        #expect(large.usage.places <= 2048 && large.usage.taken == 5000 && large.usage.dropped == 0)
        large.put(extraction("kept"), id: 1, sha256: "s", bytes: 10)
        large.removeAll()
        #expect(large.usage.count == 0 && large.usage.bytes == 0 && large.take(id: 1, sha256: "s") == nil)
    }

    @Test func stagesOfOneCustomerRunShareOneObjectOfEachType() throws {
        let workspace = try TestWorkspace()
        let cache = StageResultCache()
        let services = CustomerServices(customer: Self.bulk, store: try workspace.store, dataDirectory: workspace.data, clock: ManualClock(),
                                        logger: Logger(label: "test"), transport: ScriptedTransport(), environment: [:],
                                        pipeline: PipelineDefinition(name: "test", stages: []), tokenCache: nil)
        func context(_ stage: String) -> StageContext {
            StageContext(runID: "r", runStartedAt: Date(timeIntervalSince1970: 0), customer: Self.bulk, stageID: stage, options: RunOptions(),
                         directory: workspace.data.root, services: services, earlierStages: [:], cache: cache)
        }
        #expect(context("download").shared(ExtractionHandOff.self) == nil, "nothing is made before a stage asks for it")
        let made = context("extract").shared(ExtractionHandOff.self) { ExtractionHandOff() }
        #expect(context("download").shared(ExtractionHandOff.self) === made)
        #expect(context("other").shared(ExtractionHandOff.self) { ExtractionHandOff() } === made)
        let otherRun = StageContext(runID: "r2", runStartedAt: Date(timeIntervalSince1970: 0), customer: Self.bulk, stageID: "download",
                                    options: RunOptions(), directory: workspace.data.root, services: services, earlierStages: [:],
                                    cache: StageResultCache())
        #expect(otherRun.shared(ExtractionHandOff.self) == nil, "another customer run has its own")
    }

    /// The messages a logger was given.
    final class CapturedLog: @unchecked Sendable {
        // @unchecked: `lines` is only touched under `lock`.
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var messages: [String] { lock.withLock { lines } }
    }

    struct CapturingLogHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            log.append(message.description)
        }
    }

    /// extract-tasks takes the tasks download-exports parsed instead of reading the exports back:
    /// what it says in the log at debug level.
    @Test func extractTasksTakesTheTasksDownloadExportsHandsOver() async throws {
        let workspace = try TestWorkspace()
        try FixtureGenerator.writeBulk(to: workspace.fixtures, name: "bulk", workflows: 450)
        let log = CapturedLog()
        var logger = Logger(label: "test") { _ in CapturingLogHandler(log: log) }
        logger.logLevel = .debug
        let clock = ManualClock()
        let run = try await workspace.runner(transport: FixtureTransport(mock: workspace.mock(clock: clock)), clock: clock, logger: logger)
            .start(pipeline: try workspace.pipeline(), pipelinePath: "pipelines/sync-workflows.yaml", customers: [Self.bulk], options: RunOptions())
        #expect(run.status == .succeeded)
        let line = try #require(log.messages.first { $0.hasPrefix("tasks handed over by download-exports: ") })
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] > 0 && numbers[0] + numbers[1] == 450, "\(line)")
    }

    /// A task in one line: its ids, name and type, and a hash of its longer fields.
    static func summary(_ id: Int64, _ parent: Int64?, _ name: String?, _ type: String?, _ parameters: String?, _ tags: String?, _ css: String?) -> String {
        let long = [parameters, tags, css].map { $0 ?? "<null>" }.joined(separator: "\u{1F}")
        return "\(id) <- \(parent.map(String.init) ?? "-") \(name ?? "<null>") [\(type ?? "<null>")] \(Digest.sha256Hex(long).prefix(12))"
    }

    /// The tasks extract-tasks stores while streaming (from the exports download-exports parsed)
    /// are those of each stored export, parsed again from the store.
    @Test func tasksStoredWhileStreamingAreThoseOfEachStoredExport() async throws {
        let workspace = try TestWorkspace()
        try FixtureGenerator.writeBulk(to: workspace.fixtures, name: "bulk", workflows: 450)
        let clock = ManualClock()
        _ = try await Self.syncBulk(workspace, clock: clock)
        try await workspace.sync(clock: clock, runID: "demo")
        // hooli lists no workflows.
        for slug in ["bulk", "globex", "initech"] {
            let exports = try workspace.store.exports(customerSlug: slug)
            #expect(!exports.isEmpty)
            let stored = try await workspace.store.sqliteWriter!.read { db in
                var tasks: [Int64: [String]] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT w.zuora_id, t.zuora_task_id, t.parent_task_id, t.name, t.action_type, t.parameters, t.tags, t.css
                    FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id
                    WHERE c.slug = ? ORDER BY w.zuora_id, t.zuora_task_id
                    """, arguments: [slug]) {
                    tasks[row["zuora_id"], default: []].append(Self.summary(row["zuora_task_id"], row["parent_task_id"], row["name"], row["action_type"],
                                                                            row["parameters"], row["tags"], row["css"]))
                }
                return tasks
            }
            for export in exports {
                let expected = TaskExtractor.extract(from: try JSONValue.parse(Data(export.text.utf8))).tasks
                    .sorted { $0.zuoraTaskID < $1.zuoraTaskID }
                    .map { Self.summary($0.zuoraTaskID, $0.parentTaskID, $0.name, $0.actionType, $0.parameters, $0.tags, $0.css) }
                #expect(stored[export.zuoraID] ?? [] == expected, "workflow \(export.zuoraID) of \(slug)")
            }
        }
    }

    /// A snapshot file written as its export was stored is taken as current by the refresh that
    /// follows, unless it was changed since or the store now names another export.
    @Test func aSnapshotPlacedWhileStreamingIsNotWrittenAgainUnlessItChangedSince() async throws {
        let workspace = try TestWorkspace()
        try FixtureGenerator.writeBulk(to: workspace.fixtures, name: "bulk", workflows: 40)
        _ = try await Self.syncBulk(workspace, clock: ManualClock())
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        let objects = ObjectStore(dataDirectory: workspace.data.root)
        let index = try workspace.store.indexEntries(customerSlug: "bulk")
        #expect(index.count == 40)
        // Every snapshot file of the sync holds its export.
        for entry in index {
            let sha256 = try #require(entry.exportSHA256)
            #expect(try Digest.sha256Hex(Data(contentsOf: snapshots.workflowFile("bulk", zuoraID: entry.id))) == sha256)
        }
        // Start again from no snapshots: half are placed, as while streaming, then the refresh.
        try FileManager.default.removeItem(at: snapshots.customerDirectory("bulk"))
        try FileManager.default.removeItem(at: snapshots.statsFile("bulk"))
        let half = index.prefix(20)
        // Ten from a file, read and checked; ten from a text the caller checked (as the store does).
        var placed = try snapshots.placeStored(half.prefix(10).map { (zuoraID: $0.id, sha256: $0.exportSHA256!, bytes: .file(objects.url(for: $0.exportSHA256!))) },
                                               customerSlug: "bulk")
        let checked = try half.suffix(10).map { entry -> (zuoraID: Int64, sha256: String, bytes: SnapshotWriter.ExportBytes) in
            (entry.id, entry.exportSHA256!, .checked(try String(contentsOf: objects.url(for: entry.exportSHA256!), encoding: .utf8)))
        }
        placed.merge(try snapshots.placeStored(checked, customerSlug: "bulk")) { _, latest in latest }
        #expect(placed.count == 20)
        // A source that does not hold its export is left to the refresh.
        let wrong = index[20]
        #expect(try snapshots.placeStored([(zuoraID: wrong.id, sha256: wrong.exportSHA256!, bytes: .file(objects.url(for: index[21].exportSHA256!)))],
                                          customerSlug: "bulk").isEmpty)
        func inode(_ id: Int64) throws -> UInt64? {
            (try FileManager.default.attributesOfItem(atPath: snapshots.workflowFile("bulk", zuoraID: id).path)[.systemFileNumber] as? NSNumber)?.uint64Value
        }
        let edited = half[half.startIndex], stale = half[half.startIndex + 1], kept = half[half.startIndex + 2]
        try Data("{}".utf8).write(to: snapshots.workflowFile("bulk", zuoraID: edited.id))   // changed since it was placed
        placed[stale.id]!.sha256 = SHA256Hash(hex: String(repeating: "0", count: 64))  // placed for an export no longer stored
        let keptInode = try inode(kept.id), keptFromTextInode = try inode(half[half.endIndex - 1].id)
        let counts = try snapshots.refresh(customerSlug: "bulk", store: workspace.store, placed: placed)
        #expect(counts.written == 20 + 2 + 1, "the 20 not placed, the edited and the stale one, and the index")
        #expect(try inode(kept.id) == keptInode, "a placed file is not written again")
        #expect(try inode(half[half.endIndex - 1].id) == keptFromTextInode, "nor one placed from a checked text")
        for entry in index {
            #expect(try Digest.sha256Hex(Data(contentsOf: snapshots.workflowFile("bulk", zuoraID: entry.id))) == entry.exportSHA256)
        }
        // The stats now know every file: a second refresh writes nothing.
        #expect(try snapshots.refresh(customerSlug: "bulk", store: workspace.store).written == 0)
    }
}
