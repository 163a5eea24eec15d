import ArgumentParser
import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncHTTP
import ZuoraSyncJobs
import ZuoraSyncMock
import ZuoraSyncStages
import ZuoraSyncStore

struct TrashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trash",
        abstract: "Workflows that cleanup deleted: list, restore, purge.",
        subcommands: [List.self, Restore.self, Purge.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deleted workflows kept in the trash.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "JSON output.") var json = false

        func run() throws {
            let listing = Trash(directory: global.dataDirectory).listing()
            for problem in listing.problems {
                FileHandle.standardError.write(Data("warning: unreadable trash archive: \(problem)\n".utf8))
            }
            let items = listing.items
            if json {
                FileHandle.standardOutput.write(try CanonicalJSON.encode(items))
            } else if items.isEmpty {
                print("The trash is empty.")
            } else {
                print(RunSummaryFormatter.table(["run", "customer", "workflow", "name", "tasks"],
                                                items.map { [$0.run, $0.customer, "\($0.id)", $0.name, "\($0.tasks)"] }))
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring deleted workflows back into the store and snapshots.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run that deleted them.") var runID: String
        @Option(help: "Only this customer.") var customer: String?
        @Option(help: "Only this workflow (Zuora id).") var workflow: Int64?

        func run() throws {
            do {
                let customers = (try? global.loadCustomers()) ?? []
                let store = try global.openStore()
                let restored = try Trash(directory: global.dataDirectory).restore(run: runID, customer: customer, workflow: workflow,
                                                                                 customers: customers, store: store)
                for item in restored { print("restored \(item.customer) \(item.id) \(item.name) (\(item.tasks) tasks)") }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete trash of runs older than a duration (30d, 12h).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("older-than"), help: "Age, e.g. 30d.") var olderThan = "30d"

        func run() throws {
            guard let seconds = DurationText.seconds(olderThan) else {
                throw ValidationError("--older-than takes a number and a unit: 30d, 12h, 45m, 90s.")
            }
            let removed = try Trash(directory: global.dataDirectory).purge(olderThan: SystemClock().now().addingTimeInterval(-seconds))
            print("Purged \(removed) workflow(s) from the trash.")
        }
    }
}

struct RebuildTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-tasks",
        abstract: "Rebuild tasks and linkages from the stored exports, without calling Zuora.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this customer (default: all in the store).") var customer: String?
    @Option(help: "Only this workflow (Zuora id).") var workflow: Int64?
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        do {
            let store = try global.openStore()
            let customers = try customer.map { [$0] } ?? store.customerSlugs()
            if let customer, try store.customerRowID(slug: customer) == nil {
                throw ValidationError("No customer '\(customer)' in the store; sync it first.")
            }
            let results = try TaskRebuilder.rebuild(customers: customers, workflow: workflow, store: store)
            if json {
                FileHandle.standardOutput.write(try CanonicalJSON.encode(results))
                return
            }
            print(RunSummaryFormatter.table(["customer", "workflow", "tasks", "linkages", "warnings"],
                                            results.map { [$0.customer, "\($0.workflow)", "\($0.tasks)", "\($0.linkages)", "\($0.warnings.count)"] }))
            print("\nRebuilt \(results.count) workflow(s), \(results.reduce(0) { $0 + $1.tasks }) task(s).")
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
