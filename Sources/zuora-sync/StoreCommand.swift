import ArgumentParser
import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// `zuora-sync store migrate|check|copy`: the database behind the sync (SQLite or PostgreSQL).
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Create or upgrade the store's schema, check it, or copy an installation to another store.",
        subcommands: [Migrate.self, Check.self, Copy.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the schema (every command does it too; this one only that). Safe to run on several hosts at once.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let store = try global.openStore()
            print("Store \(store.database.location): schema \(try store.schemaVersion()).")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect, print the schema version and every table's row count; exit 1 when the store cannot be reached.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print every row as canonical JSON lines instead (compare two stores with diff).") var dump = false

        func run() throws {
            let store = try global.openStore()
            if dump {
                for line in try store.dump() { print(line) }
                return
            }
            print("store:   \(store.dialect.rawValue) \(store.database.location)")
            print("schema:  \(try store.schemaVersion())")
            print(RunSummaryFormatter.table(["table", "rows"], try store.tableCounts().map { [$0.table, String($0.rows)] }))
        }
    }

    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every row of one store into another, empty one, then compare both row by row.",
            discussion: """
                Moves an installation, e.g. from the data directory's SQLite file to PostgreSQL:
                  zuora-sync store copy --from sqlite:data/store.sqlite --to postgresql://zuora@db:5432/zuora_sync
                Stop workers first. The target's schema is created if needed; it must hold no rows.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The store to read: sqlite:PATH, sqlite (the data directory's) or a PostgreSQL URL.") var from: String
        @Option(help: "The empty store to write: sqlite:PATH or a PostgreSQL URL.") var to: String

        func run() throws {
            let source = try Store.opening(try StoreLocation.parse(from, origin: "--from"), dataDirectory: global.dataDirectory,
                                           environment: global.environment)
            let target = try Store.opening(try StoreLocation.parse(to, origin: "--to"), dataDirectory: global.dataDirectory,
                                           environment: global.environment)
            let counts = try target.copyRows(from: source)
            guard try source.dump() == target.dump() else {
                throw StoreError("the copy in \(target.database.location) differs from \(source.database.location); drop it and copy again", isRetryable: false)
            }
            print(RunSummaryFormatter.table(["table", "rows copied"], counts.map { [$0.table, String($0.rows)] }))
            print("Copied \(source.database.location) to \(target.database.location); every row compared equal.")
        }
    }
}

/// `zuora-sync snapshots rebuild`: the snapshots and the objects store come from the database, so
/// a host that lost its disk (or a new worker host) gets them back from the shared store.
struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "Rebuild snapshots/ and objects/ from the store.", subcommands: [Rebuild.self])

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every customer's snapshots and every stored export's object from the store (only what differs).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this customer.") var customer: String?

        func run() throws {
            let store = try global.openStore()
            let snapshots = SnapshotWriter(dataDirectory: global.dataDirectory.root)
            let objects = ObjectStore(dataDirectory: global.dataDirectory.root)
            let slugs = try customer.map { [$0] } ?? store.customerSlugs()
            var rows: [[String]] = []
            for slug in slugs {
                let refreshed = try snapshots.refresh(customerSlug: slug, store: store)
                var added = 0
                let ids = Set(try store.exportHashes(customerSlug: slug).keys)
                try store.forEachExport(customerSlug: slug, zuoraIDs: ids) { export in
                    guard !objects.contains(export.sha256) else { return }
                    try objects.put(export.text, sha256: export.sha256)
                    added += 1
                }
                rows.append([slug, String(refreshed.written), String(refreshed.removed), String(added)])
            }
            try objects.flush()
            print(RunSummaryFormatter.table(["customer", "snapshots written", "removed", "objects added"], rows))
        }
    }
}
