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

@Suite("Queue through the command line")
struct QueueCommandLineTests {
    let workspace: TestWorkspace
    init() throws { workspace = try TestWorkspace() }

    func zuoraSync(_ arguments: [String], customers: String) async throws -> CommandResult {
        try await CommandLineRunner.run(arguments + ["--data-dir", workspace.data.root.path, "--customers", customers, "--fixtures", workspace.fixtures.path],
                                  in: TestWorkspace.repositoryRoot)
    }

    func customersFile(_ text: String) throws -> String {
        let path = workspace.root.appendingPathComponent("customers-\(UUID().uuidString.prefix(6)).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func syncQueuesAndWorkProcessesOrSyncRunsNow() async throws {
        let customers = try customersFile("""
            customers:
              - {id: initech, name: Initech, base_url: "fixture://initech", client_id: initech-client, client_secret: initech-demo-secret}
              - {id: hooli, name: Hooli, base_url: "fixture://hooli", client_id: hooli-client, client_secret: hooli-demo-secret}
            """)
        let queued = try await zuoraSync(["sync", "--all"], customers: customers)
        #expect(queued.exitCode == 0, "\(queued.stderr)")
        #expect(queued.stdout.components(separatedBy: "queued ").count == 3)
        let again = try await zuoraSync(["sync", "--customer", "Initech"], customers: customers)
        #expect(again.stdout.contains("already queued: initech"), "matched by name, not queued twice")
        let listed = try await zuoraSync(["jobs", "--state", "waiting"], customers: customers)
        #expect(listed.stdout.contains("initech") && listed.stdout.contains("hooli"))

        let work = try await zuoraSync(["work", "--stop-when-empty"], customers: customers)
        #expect(work.exitCode == 0, "\(work.stderr)")
        #expect(JobQueue(dataDirectory: workspace.data).jobs(in: .done).count == 2)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)

        let now = try await zuoraSync(["sync", "--customer", "initech", "--sync"], customers: customers)
        #expect(now.exitCode == 0)
        #expect(now.stdout.contains("succeeded"))
        #expect(JobQueue(dataDirectory: workspace.data).jobs(in: .waiting).isEmpty, "--sync does not queue")
        let list = try await zuoraSync(["customers", "list"], customers: customers)
        #expect(list.stdout.contains("initech") && list.stdout.contains("succeeded"))
        let validate = try await zuoraSync(["customers", "validate"], customers: customers)
        #expect(validate.exitCode == 0)
        #expect(validate.stdout.contains("initech: ok — token granted"))
    }

    @Test func anAmbiguousNameFailsListingTheCandidates() async throws {
        let customers = try customersFile("""
            customers:
              - {id: acme-us, name: ACME, base_url: "fixture://initech", client_id: initech-client, client_secret: s}
              - {id: acme-eu, name: ACME, base_url: "fixture://hooli", client_id: hooli-client, client_secret: s}
            """)
        let result = try await zuoraSync(["sync", "--customer", "ACME"], customers: customers)
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("matches several customers"))
        #expect(result.stderr.contains("acme-us") && result.stderr.contains("acme-eu"))
        let bad = try await zuoraSync(["customers", "validate"], customers: customers)
        #expect(bad.exitCode == 1)
        #expect(bad.stdout.contains("acme-us: FAILED"))
    }

    @Test func noCustomersIsAWarningNotAFailure() async throws {
        let result = try await zuoraSync(["sync", "--all"], customers: try customersFile("customers: []\n"))
        #expect(result.exitCode == 0)
        #expect(result.stderr.contains("warning"))
    }

    @Test func aWorkerKilledMidJobLeavesAJobAnotherWorkerFinishes() async throws {
        // Exports 25 to 32 stall for ten minutes (longer than the test waits): the first worker is
        // certainly mid-run when it is killed, however long a loaded machine keeps this test from
        // polling (10 s was not enough on CI); the second worker's requests come after them.
        let server = try MockServerProcess(fixtures: workspace.fixtures, latency: 20, faults: "stall=600000:export@25x8")
        let customers = try customersFile("""
            customers:
              - {id: globex, base_url: "\(server.baseURL("globex"))", client_id: globex-client, client_secret: globex-demo-secret}
            """)
        #expect(try await zuoraSync(["sync", "--all"], customers: customers).exitCode == 0)

        let doomed = Process()
        doomed.executableURL = CommandLineRunner.binary
        doomed.arguments = ["work", "--stop-when-empty", "--lease-seconds", "2", "--data-dir", workspace.data.root.path, "--customers", customers]
        doomed.currentDirectoryURL = TestWorkspace.repositoryRoot
        doomed.standardOutput = FileHandle.nullDevice
        doomed.standardError = FileHandle.nullDevice
        try doomed.run()
        // Kill it once it is well into the exports, after the listing committed (exports fetched
        // while the listing still ran belong to a listing that was never committed: a resume
        // fetches them again).
        let deadline = Date().addingTimeInterval(60)
        var exportsOnDisk = 0
        var listingCommitted = false
        while Date() < deadline && (exportsOnDisk < 20 || !listingCommitted) {
            try await Task.sleep(nanoseconds: 20_000_000)
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: workspace.data.runs.path)) ?? []
            listingCommitted = runs.contains { run in
                FileManager.default.fileExists(atPath: workspace.data.stage(run: run, customer: "globex", index: 2, stageID: "fetch-workflow-pages")
                    .appendingPathComponent(StageFiles.commit).path)
            }
            exportsOnDisk = runs.reduce(0) { total, run in
                total + ((try? FileManager.default.contentsOfDirectory(atPath: workspace.data.stage(run: run, customer: "globex", index: 3, stageID: "download-exports").appendingPathComponent("exports").path).count) ?? 0)
            }
        }
        kill(doomed.processIdentifier, SIGKILL)
        doomed.waitUntilExit()
        #expect(exportsOnDisk >= 20)
        let stranded = JobQueue(dataDirectory: workspace.data).jobs(in: .running)
        #expect(stranded.count == 1, "the killed worker left its job running")

        let rescue = try await zuoraSync(["work", "--stop-when-empty", "--lease-seconds", "2"], customers: customers)
        #expect(rescue.exitCode == 0, "\(rescue.stderr)")
        let job = try #require(JobQueue(dataDirectory: workspace.data).jobs(in: .done).first)
        #expect(job.attempts == 2)
        #expect(job.runID == stranded.first?.runID)
        let passes = try workspace.data.loadManifest(job.runID!).passes
        #expect(passes == 2, "the rescue resumed the run once (passes: \(passes))")
        let stats = try await server.stats()
        #expect(stats.count("globex", .export) < 123 + 20, "exports kept from before the kill were not fetched again")
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
    }
}
