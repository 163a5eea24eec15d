import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
import ZuoraSyncTesting

/// Ctrl-C and `kill` on real processes: the run is marked interrupted and `resume` finishes it.
@Suite("Signals stop runs cleanly", .timeLimit(.minutes(2)))
struct SignalTests {
    let workspace: TestWorkspace
    init() throws { workspace = try TestWorkspace() }

    func writeCustomers(_ server: MockServerProcess) throws -> String {
        let text = "customers:\n  - {id: globex, base_url: \"\(server.baseURL("globex"))\", client_id: globex-client, client_secret: globex-demo-secret}\n"
        let path = workspace.root.appendingPathComponent("customers.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Waits (polling, within a bound) until some exports of the run have been downloaded.
    func waitForExports() async throws {
        for _ in 0..<600 {
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: workspace.data.runs.path)) ?? []
            for run in runs {
                let exports = workspace.data.run(run).appendingPathComponent("globex/04-download-exports/exports")
                if ((try? FileManager.default.contentsOfDirectory(atPath: exports.path)) ?? []).count >= 3 { return }
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Issue.record("the run downloaded no export within 12 s")
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalMarksTheRunInterruptedAndResumeFinishesIt(signal: Int32, expectedExit: Int32) async throws {
        // 400 ms per request: the exports take several seconds, so the signal lands mid-run even
        // when the whole suite (browser included) loads both cores; at 150 ms the run sometimes
        // finished before this test was scheduled again to send it.
        // Exports 10 to 17 stall for 10 s: the run is certainly mid-way when the signal lands, however
        // loaded the machine is; the resume's requests come after them and are answered at once.
        let server = try MockServerProcess(fixtures: workspace.fixtures, latency: 20, faults: "stall=10000:export@10x8")
        let customers = try writeCustomers(server)
        let arguments = ["--pipeline", TestWorkspace.pipelinePath, "--customers", customers, "--data-dir", workspace.data.root.path]
        let running = try RunningCommand(["run", "--all"] + arguments, in: workspace.root)
        try await waitForExports()
        running.send(signal)
        let stopped = await running.result()
        #expect(stopped.exitCode == expectedExit, "\(stopped.stderr)")
        let manifest = try #require(workspace.data.manifests().first)
        #expect(manifest.status == .interrupted)
        #expect(manifest.process == nil)
        #expect(manifest.result(for: "globex")?.status == .interrupted)
        #expect(stopped.stderr.contains("zuora-sync resume \(manifest.id)"))
        // No half-written file is left where a reader would take it for whole.
        let exports = workspace.files(under: workspace.data.stage(run: manifest.id, customer: "globex", index: 3, stageID: "download-exports"))
        for (path, data) in exports where path.hasSuffix(".json") && !path.contains("/.") {
            #expect((try? JSONValue.parse(data)) != nil, "\(path) is not whole")
        }

        let runs = try await CommandLineRunner.run(["runs"] + arguments.dropFirst(2), in: workspace.root)
        #expect(runs.stdout.contains("interrupted"))
        let resumed = try await CommandLineRunner.run(["resume", manifest.id] + arguments.dropFirst(2), in: workspace.root)
        #expect(resumed.exitCode == 0, "\(resumed.stderr)")
        #expect(try workspace.data.loadManifest(manifest.id).status == .succeeded)
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
    }
}
