import Foundation
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// The CLI through the built binary: stdout, stderr, exit codes and files on disk.
@Suite("zuora-sync command line")
struct CommandLineTests {
    let workspace: TestWorkspace
    let pipeline = TestWorkspace.pipelinePath

    init() throws {
        workspace = try TestWorkspace()
        try workspace.writeCustomers()
    }


    @Test func runSyncsAndExitsZero() async throws {
        let result = try await workspace.zuoraSync(["run", "--all", "--pipeline", pipeline])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdout.contains("succeeded"))
        #expect(result.stdout.contains("globex"))
        #expect(result.stdout.contains("Where to look next"))
        #expect(FileManager.default.fileExists(atPath: workspace.data.storeFile.path))
        #expect(FileManager.default.fileExists(atPath: workspace.data.root.appendingPathComponent("snapshots/initech/index.json").path))
        // Nothing outside the data directory was written.
        let outside = try FileManager.default.contentsOfDirectory(atPath: workspace.root.path).sorted()
        #expect(outside == ["customers.yaml", "data", "fixtures"])

        let runs = try await workspace.zuoraSync(["runs"])
        #expect(runs.exitCode == 0)
        #expect(runs.stdout.contains("sync-workflows"))
        let inspect = try await workspace.zuoraSync(["inspect", "--customer", "globex", "--stage", "download-exports"])
        #expect(inspect.exitCode == 0)
        #expect(inspect.stdout.contains("downloaded=121"))
        #expect(inspect.stdout.contains("invalid JSON"))
        let json = try await workspace.zuoraSync(["inspect", "--json"])
        let parsed = try JSONValue.parse(Data(json.stdout.utf8))
        #expect(parsed["stages"]?.arrayValue?.count == 14)
        #expect(parsed["status"]?.stringValue == "succeeded")
        #expect(parsed["run"]?.stringValue?.isEmpty == false)
        let resume = try await workspace.zuoraSync(["resume"])
        #expect(resume.exitCode == 0)
        #expect(resume.stdout.contains("Nothing to resume"))
    }

    @Test func aFailingCustomerExitsOneAndOthersStillSync() async throws {
        try workspace.writeCustomers(secrets: ["globex": "Sup3rS3cretWrongValue", "initech": "initech-demo-secret"])
        let result = try await workspace.zuoraSync(["run", "--all", "--pipeline", pipeline])
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("globex failed at oauth-token"))
        #expect(result.stdout.contains("(not retryable)"))
        #expect(result.stdout.contains("Bad client credentials"))
        #expect(!result.stdout.contains("Sup3rS3cret") && !result.stderr.contains("Sup3rS3cret"))
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
    }

    @Test func badConfigurationExits64WithFileAndLine() async throws {
        let bad = workspace.root.appendingPathComponent("bad.yaml")
        try "stages:\n  - id: a\n    kind: validate-credentials\n    page_size: 0\n".write(to: bad, atomically: true, encoding: .utf8)
        let result = try await workspace.zuoraSync(["validate", bad.path])
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("bad.yaml:4: stages[0].page_size: unknown key 'page_size'"))
        let run = try await workspace.zuoraSync(["run", "--all", "--pipeline", bad.path])
        #expect(run.exitCode == 64)
        #expect(!FileManager.default.fileExists(atPath: workspace.data.runs.path), "nothing ran")
    }

    @Test func usageErrorsExit64() async throws {
        #expect(try await workspace.zuoraSync(["run", "--pipeline", pipeline]).exitCode == 64)
        let unknown = try await workspace.zuoraSync(["run", "--customer", "nope", "--pipeline", pipeline])
        #expect(unknown.exitCode == 64)
        #expect(unknown.stderr.contains("No customer 'nope'"))
        #expect(unknown.stderr.contains("globex"))
        #expect(try await workspace.zuoraSync(["inspect", "no-such-run"]).exitCode == 64)
        #expect(try await workspace.zuoraSync(["resume", "no-such-run"]).exitCode == 64)
        #expect(try await workspace.zuoraSync(["trash", "restore", "../etc"]).exitCode == 64)
        let missing = try await CommandLineRunner.run(["validate", pipeline, "--customers", "absent.yaml"], in: workspace.root)
        #expect(missing.exitCode == 64)
        #expect(missing.stderr.contains("customers.example.yaml"))
    }

    @Test func validateReportsBothFiles() async throws {
        let result = try await workspace.zuoraSync(["validate", pipeline])
        #expect(result.exitCode == 0)
        #expect(result.stdout.contains("7 stages"))
        #expect(result.stdout.contains("2 customer(s): globex, initech"))
    }

    /// `make demo`'s own command line (from `make -n`, without the build step) runs and exits 0.
    @Test func theMakeDemoRecipeRuns() async throws {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["make", "-n", "demo", "DATA=\(workspace.data.root.path)"]
        make.currentDirectoryURL = TestWorkspace.repositoryRoot
        let out = Pipe()
        make.standardOutput = out
        make.standardError = FileHandle.nullDevice
        try make.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        make.waitUntilExit()
        let line = try #require(text.split(separator: "\n").last { $0.hasPrefix(".build/debug/zuora-sync ") })
        let arguments = line.split(separator: " ").dropFirst().map(String.init)
        let result = try await CommandLineRunner.run(arguments, in: TestWorkspace.repositoryRoot)
        #expect(result.exitCode == 0, "\(line): \(result.stderr)")
        #expect(result.stdout.contains("globex") && result.stdout.contains("succeeded"))
        #expect(FileManager.default.fileExists(atPath: workspace.data.storeFile.path))
    }
}
