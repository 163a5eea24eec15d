import Foundation
import GRDB
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// An unchanged resync of a listing the store is proven to hold compares and writes nothing, and
/// whatever changes the store's rows (a sync, a hand edit) makes the next run compare them again.
@Suite("Unchanged resyncs and the listing match")
struct ListingMatchTests {
    @Test func anUnchangedResyncWritesNothingAndAHandEditIsStillRepaired() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let store = try workspace.store
        let recorded = try #require(try store.listingMatch(customerSlug: "initech"), "a clean first sync records the match")

        clock.advance(seconds: 1800)
        let before = try workspace.databaseDump()
        let second = try #require(try await workspace.sync(["initech"], clock: clock).figures("initech"))
        #expect(second.storeMatchedListing)
        #expect(second.unchanged == 6 && second.updated == 0 && second.created == 0 && second.tasksExtractedFrom == 0)
        #expect(try workspace.databaseDump() == before)
        #expect(try store.listingMatch(customerSlug: "initech") == recorded, "an unchanged run keeps the recording itself")

        // A row edited by hand: the match is forgotten and the next run puts the listed name back.
        let listedName = try #require(try store.storedWorkflows(customerSlug: "initech")[41]?.name)
        try await store.sqliteWriter!.write { db in try db.execute(sql: "UPDATE workflows SET name = 'edited by hand' WHERE zuora_id = 41") }
        #expect(try store.listingMatch(customerSlug: "initech") == nil)
        clock.advance(seconds: 1800)
        let third = try #require(try await workspace.sync(["initech"], clock: clock).figures("initech"))
        #expect(!third.storeMatchedListing)
        #expect(third.updated == 1)
        #expect(try store.storedWorkflows(customerSlug: "initech")[41]?.name == listedName)
        #expect(try store.listingMatch(customerSlug: "initech")?.listingSHA256 == recorded.listingSHA256)
        #expect(try store.listingMatch(customerSlug: "initech")?.id != recorded.id, "recorded again after a change")

        // Task sources removed by hand: forgotten, and the tasks are extracted again.
        try await store.sqliteWriter!.write { db in
            try db.execute(sql: "DELETE FROM task_sources WHERE workflow_id = (SELECT id FROM workflows WHERE zuora_id = 41)")
            try db.execute(sql: "DELETE FROM tasks WHERE workflow_id = (SELECT id FROM workflows WHERE zuora_id = 41)")
        }
        #expect(try store.listingMatch(customerSlug: "initech") == nil)
        clock.advance(seconds: 1800)
        let fourth = try #require(try await workspace.sync(["initech"], clock: clock).figures("initech"))
        #expect(fourth.tasksExtractedFrom == 1)
        #expect(try workspace.databaseDump() == before)
        #expect(try store.listingMatch(customerSlug: "initech")?.listingSHA256 == recorded.listingSHA256)
    }

    @Test func anUnchangedRunTrustsTheSnapshotsAndAFullPassChecksEveryFile() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        let verified = snapshots.verifiedFile("initech")
        #expect(FileManager.default.fileExists(atPath: verified.path), "the end-of-run check is remembered with the listing match")
        let edited = snapshots.workflowFile("initech", zuoraID: 41)
        let original = try Data(contentsOf: edited)
        try Data("{\"hand\": \"edited\"}\n".utf8).write(to: edited)

        // An unchanged incremental run looks at no snapshot file (README: restored by the next
        // change or full pass)...
        clock.advance(seconds: 1800)
        try await workspace.sync(["initech"], clock: clock)
        #expect(try Data(contentsOf: edited) != original)
        // ...and the full pass checks every file.
        clock.advance(seconds: 1800)
        var full = RunOptions()
        full.full = true
        let pass = try #require(try await workspace.sync(["initech"], clock: clock, options: full).figures("initech"))
        #expect(pass.exportsDownloaded == 6)
        #expect(try Data(contentsOf: edited) == original)

        // A snapshot index edited by hand is noticed at once (its stamp is part of the check).
        let index = snapshots.indexFile("initech")
        let indexBytes = try Data(contentsOf: index)
        try Data("[]\n".utf8).write(to: index)
        clock.advance(seconds: 1800)
        try await workspace.sync(["initech"], clock: clock)
        #expect(try Data(contentsOf: index) == indexBytes)

        // So is a change of the store: the row's snapshot follows it.
        try workspace.editUpstream(tenant: "initech", workflowID: 41, updatedAt: "2026-11-03T00:00:00.000Z") { item, _ in
            item["name"] = .string("Renamed upstream")
        }
        try Data("{\"hand\": \"edited\"}\n".utf8).write(to: edited)
        clock.advance(seconds: 1800)
        try await workspace.sync(["initech"], clock: clock)
        #expect(try Data(contentsOf: edited) == original, "same export, restored by the run that changed the customer")
    }

    @Test func anExportChangedWithoutItsListingIsNotTrustedByAnotherHostsSnapshots() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let snapshots = SnapshotWriter(dataDirectory: workspace.data.root)
        let snapshot = snapshots.workflowFile("initech", zuoraID: 41)
        // What another host's data directory holds: its snapshot and its record of a whole check.
        let otherHostSnapshot = try Data(contentsOf: snapshot)
        let otherHostVerified = try Data(contentsOf: snapshots.verifiedFile("initech"))
        let first = try #require(try workspace.store.listingMatch(customerSlug: "initech"))

        // Upstream changes 41's export but not its listing; the full pass stores it, and the same
        // listing is recorded again.
        let exportURL = workspace.fixtures.appendingPathComponent("initech/exports/41.json")
        var export = try JSONValue.parse(Data(contentsOf: exportURL)).objectValue!
        var workflow = export["workflow"]!.objectValue!
        workflow["description"] = .string("changed without a new updatedAt")
        export["workflow"] = .object(workflow)
        try AtomicFile.write(JSONValue.object(export).canonicalData(), to: exportURL)
        clock.advance(seconds: 1800)
        var full = RunOptions()
        full.full = true
        try await workspace.sync(["initech"], clock: clock, options: full)
        let second = try #require(try workspace.store.listingMatch(customerSlug: "initech"))
        #expect(second.listingSHA256 == first.listingSHA256 && second.id != first.id)
        let stored = try #require(try workspace.store.exports(customerSlug: "initech", zuoraIDs: [41]).first)

        // The other host's files come back: its next incremental run must not trust them.
        try otherHostSnapshot.write(to: snapshot)
        try otherHostVerified.write(to: snapshots.verifiedFile("initech"))
        clock.advance(seconds: 1800)
        try await workspace.sync(["initech"], clock: clock)
        #expect(try Data(contentsOf: snapshot) == Data(stored.text.utf8))
    }

    @Test func aChangeOnlyTheListingShowsIsStillSaved() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        // Same updatedAt and version (no export is downloaded), another description.
        let listURL = workspace.fixtures.appendingPathComponent("initech/workflows.json")
        var items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!
        var item = items[0].objectValue!
        let id = try #require(item["id"]?.intValue)
        item["description"] = .string("described upstream")
        items[0] = .object(item)
        try AtomicFile.write(JSONValue.array(items).canonicalData(), to: listURL)
        clock.advance(seconds: 1800)
        let second = try #require(try await workspace.sync(["initech"], clock: clock).figures("initech"))
        #expect(second.exportsDownloaded == 0)
        #expect(!second.storeMatchedListing)
        let description = try await workspace.store.sqliteWriter!.read { db in
            try String.fetchOne(db, sql: "SELECT description FROM workflows WHERE zuora_id = ?", arguments: [id])
        }
        #expect(description == "described upstream")
        #expect(try workspace.store.listingMatch(customerSlug: "initech") != nil, "recorded again for the new listing")
    }

    @Test func aFailedExportIsDownloadedAgainNextRunInsteadOfLookingCurrent() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        try await workspace.sync(["initech"], clock: clock)
        let first = try #require(try workspace.store.listingMatch(customerSlug: "initech"))
        let storedBefore = try #require(try workspace.store.storedWorkflows(customerSlug: "initech")[43])
        let exportURL = workspace.fixtures.appendingPathComponent("initech/exports/43.json")
        try workspace.editUpstream(tenant: "initech", workflowID: 43, updatedAt: "2026-11-02T00:00:00.000Z") { _, _ in }
        let goodExport = try Data(contentsOf: exportURL)
        try Data("{\"workflow\": {".utf8).write(to: exportURL)
        clock.advance(seconds: 1800)
        let second = try #require(try await workspace.sync(["initech"], clock: clock).figures("initech"))
        #expect(second.exportsFailed == 1)
        // The stored row keeps the updatedAt of its stored export, so it does not look current.
        #expect(try workspace.store.storedWorkflows(customerSlug: "initech")[43]?.updatedOn == storedBefore.updatedOn)
        #expect(try workspace.store.listingMatch(customerSlug: "initech") == first, "nothing changed in the store; no match for the new listing")

        try goodExport.write(to: exportURL)
        clock.advance(seconds: 1800)
        let mock = try workspace.mock(clock: clock)
        let third = try #require(try await workspace.sync(["initech"], mock: mock, clock: clock).figures("initech"))
        #expect(mock.stats.count("initech", .export) == 1, "downloaded again without waiting for a full pass")
        #expect(third.updated == 1)
        #expect(try workspace.store.storedWorkflows(customerSlug: "initech")[43]?.updatedOn == "2026-11-02T00:00:00.000Z")
        let recorded = try #require(try workspace.store.listingMatch(customerSlug: "initech"))
        #expect(recorded != first)
    }

    @Test func theFingerprintCoversEveryListedField() throws {
        let item: [String: JSONValue] = [
            "id": .int(7), "name": .string("n"), "description": .string("d"), "status": .string("Active"),
            "createdAt": .string("2026-01-01T00:00:00.000Z"), "updatedAt": .string("2026-01-02T00:00:00.000Z"),
            "calloutTrigger": .bool(true), "ondemandTrigger": .bool(false), "scheduledTrigger": .bool(true),
            "interval": .string("0 * * * *"), "timezone": .string("UTC"),
            "active_version": .object(["id": .int(70), "version": .string("1.0"), "type": .string("Workflow::Setup")]),
        ]
        let base = try #require(ListedWorkflow(item: .object(item)))
        // A new ListedWorkflow field must be added to the fingerprint too (or an unchanged-looking
        // resync would skip saving it): this count is the reminder.
        #expect(Mirror(reflecting: base.fields).children.count == 14)
        let fingerprint = ListedWorkflow.fingerprint(of: [base])
        #expect(ListedWorkflow.fingerprint(of: [base]) == fingerprint)
        var changed: [String: JSONValue] = [:]
        for key in item.keys where key != "active_version" {
            switch item[key]! {
            case .string(let text): changed[key] = .string(text + "x")
            case .bool(let flag): changed[key] = .bool(!flag)
            case .int(let number): changed[key] = .int(number + 1)
            default: break
            }
        }
        for subkey in ["id", "version", "type"] {
            var active = item["active_version"]!.objectValue!
            if case .int(let number) = active[subkey]! { active[subkey] = .int(number + 1) } else { active[subkey] = .string("other") }
            changed["active_version." + subkey] = .object(active)
        }
        #expect(changed.count == 14)
        for (key, value) in changed {
            var variant = item
            variant[key.hasPrefix("active_version.") ? "active_version" : key] = value
            let other = try #require(ListedWorkflow(item: .object(variant)))
            #expect(ListedWorkflow.fingerprint(of: [other]) != fingerprint, "\(key)")
        }
        // A value moved from one field to the next is another listing, and so is another order.
        var moved = base
        moved.name = "nd"
        moved.description = nil
        #expect(ListedWorkflow.fingerprint(of: [moved]) != fingerprint)
        var second = base
        second.id = 8
        #expect(ListedWorkflow.fingerprint(of: [base, second]) != ListedWorkflow.fingerprint(of: [second, base]))
    }
}
