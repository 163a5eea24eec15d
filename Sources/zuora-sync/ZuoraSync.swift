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

@main
struct ZuoraSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zuora-sync",
        abstract: "Keep a local, queryable, diffable copy of the Zuora Workflows of many customers.",
        discussion: """
            Exit codes: 0 ok (warnings allowed), 1 a customer failed, 64 bad usage or configuration.
            Every command takes --data-dir and --customers (or ZUORA_SYNC_DATA_DIR, ZUORA_SYNC_CUSTOMERS), before or after its name.
            `status` exits 2 when something needs attention.
            """,
        version: VersionInfo.version,
        subcommands: [
            RunCommand.self, ResumeCommand.self, SyncCommand.self, WorkCommand.self, JobsCommand.self, ScheduleCommand.self,
            StatusCommand.self, CustomersCommand.self, RunsCommand.self, InspectCommand.self, GCCommand.self, ChangesCommand.self, ReportCommand.self,
            ValidateCommand.self, DiffCommand.self, RebuildTasksCommand.self, TrashCommand.self,
            StoreCommand.self, SnapshotsCommand.self, MockServerCommand.self, FixturesCommand.self,
        ]
    )

    /// Parses and runs a command; every error is printed here, once, and mapped to an exit code.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] {
            print(VersionInfo.text, terminator: "")
            return
        }
        // Crash tests only: die at the N-th crash point (see CrashPoints), or report how many were passed.
        let environment = ProcessEnvironment.current()
        // A few malloc arenas, not one per thread that ever allocated: with exports parsed on one
        // thread while the store writes on another, glibc's default (8 per core) left a full sync
        // of 20,000 workflows at 200 MB instead of 164 MB. 2 arenas made ten customers at once
        // wait on malloc (1.25 s instead of 0.86 s); 4 keep both. MALLOC_ARENA_MAX still wins.
        if environment["MALLOC_ARENA_MAX"] == nil { ProcessTuning.limitMallocArenas(to: 4) }
        // Large blocks (128 KB and more: arrays as long as the tenant's listing, large exports) go
        // back to the system when freed. MALLOC_MMAP_THRESHOLD_ still wins.
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { ProcessTuning.fixLargeBlockThreshold(bytes: 128 << 10) }
        if let point = environment["ZUORA_SYNC_CRASH_AT"].flatMap(Int.init) { CrashPoints.arm(at: point) }
        defer {
            if environment["ZUORA_SYNC_CRASH_REPORT"] == "1" {
                FileHandle.standardError.write(Data("crash points: \(CrashPoints.count)\n".utf8))
            }
        }
        do {
            var command = try parseAsRoot(GlobalArguments.reorder(arguments))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = ExitCodes.code(for: error)
            if error is ExitCode || code == 0 {
                // An exit the command already explained, or help/version output.
                if code == 0 { exit(withError: error) }
                Foundation.exit(code)
            }
            FileHandle.standardError.write(Data("error: \(ExitCodes.message(for: error))\n".utf8))
            Foundation.exit(code)
        }
    }
}
