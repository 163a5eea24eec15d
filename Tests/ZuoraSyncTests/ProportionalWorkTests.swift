import Foundation
import GRDB
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
                               deep: ["z": ["k": .init(values: [1], flag: nil)], "a": [:]])

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
        var expected = Self.sample
        expected.when = try #require(Timestamp.parse(Timestamp.format(Self.sample.when)))
        #expect(try CanonicalJSON.decode(Sample.self, from: ours) == expected)
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
