import ArgumentParser
import Foundation
import ZuoraSyncKit

@main
struct ZuoraSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zuora-sync",
        abstract: "Keep a local, queryable, diffable copy of the Zuora Workflows of many customers.",
        discussion: """
            Exit codes: 0 ok (warnings allowed), 1 a customer failed, 64 bad usage or configuration.
            Every command takes --data-dir and --customers (or ZUORA_SYNC_DATA_DIR, ZUORA_SYNC_CUSTOMERS).
            """,
        subcommands: [
            RunCommand.self, ResumeCommand.self, SyncCommand.self, WorkCommand.self, JobsCommand.self, ScheduleCommand.self,
            CustomersCommand.self, RunsCommand.self, InspectCommand.self,
            ValidateCommand.self, DiffCommand.self, RebuildTasksCommand.self, TrashCommand.self,
            MockServerCommand.self, FixturesCommand.self,
        ]
    )
}
