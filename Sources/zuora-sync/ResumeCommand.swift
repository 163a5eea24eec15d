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

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a run (default: the newest unfinished one), skipping what already committed.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Run id (see `zuora-sync runs`).") var runID: String?
    @Flag(help: "Print one JSON event per line instead of the table (same as --events).") var json = false
    @OptionGroup var display: DisplayOptions

    func run() async throws {
        global.bootstrapLogging()
        do {
            if runID == nil, try RunReport.makeRunner(global, http: HTTPSettings()).runToResume(nil) == nil {
                print("Nothing to resume: every run in \(global.dataDirectory.root.path) finished (or was superseded by a later one).")
                return
            }
            try await RunReport.resume(global, runID: runID, json: json, display: display)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
