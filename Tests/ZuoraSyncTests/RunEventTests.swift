import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
import ZuoraSyncTesting

/// The typed event stream of a run: in process, in `events.jsonl`, on stdout with `--events`, and
/// as the progress display on a non-terminal.
@Suite("Run events")
struct RunEventTests {
    @Test func aRunReportsStagesProgressAndItsEndInOrder() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let recorded = RecordedRunEvents()
        var runner = workspace.runner(transport: FixtureTransport(mock: try workspace.mock(clock: clock)), clock: clock, runID: "events-run")
        runner.events = recorded
        let manifest = try await runner.start(pipeline: try workspace.pipeline(), pipelinePath: "p.yaml", customers: workspace.customers())
        let events = recorded.events
        #expect(events.first?.event == .runStarted)
        #expect(events.first?.total == 3)
        #expect(events.last?.event == .runFinished)
        #expect(events.last?.status == manifest.status.rawValue)
        #expect(events.allSatisfy { $0.run == "events-run" })

        let globex = events.filter { $0.customer == "globex" }
        let started = globex.filter { $0.event == .stageStarted }.compactMap(\.stage)
        let finished = globex.filter { $0.event == .stageFinished }.compactMap(\.stage)
        let stages = try workspace.pipeline().stages.map(\.id)
        #expect(started == stages)
        #expect(finished == stages)
        // Exports: a first progress event with the total, and the last one at done == total.
        let exports = globex.filter { $0.event == .progress && $0.unit == "exports" }
        #expect(exports.first?.done == 0)
        #expect(exports.last?.done == 123 && exports.last?.total == 123)
        #expect(globex.contains { $0.event == .progress && $0.unit == "pages" })
        #expect(globex.filter { $0.event == .warning }.count == 3)
        #expect(globex.last?.event == .customerFinished)
        #expect(globex.last?.counts?["workflows"] == 123)

        // The same events, in the same order, are in events.jsonl.
        let logged = try RunEventLog.read(workspace.data.events("events-run"))
        #expect(logged == events)
        // Request counts reach the summary.
        let summary = try #require(manifest.result(for: "globex")?.summary)
        #expect(summary.requests.requests >= 3 + 123)
        #expect(summary.stageCounts["download-exports"]?["downloaded"] == 121)
    }

    @Test func retriesAndWaitsAreEventsAndCounted() async throws {
        let workspace = try TestWorkspace()
        let clock = ManualClock()
        let recorded = RecordedRunEvents()
        let mock = try workspace.mock(clock: clock, faults: "429=2:export@3x2")
        var runner = workspace.runner(transport: FixtureTransport(mock: mock), clock: clock)
        runner.events = recorded
        let manifest = try await runner.start(pipeline: try workspace.pipeline(), pipelinePath: "p.yaml", customers: workspace.customers(["globex"]))
        #expect(manifest.status == .succeeded)
        let retries = recorded.events.filter { $0.event == .retry }
        #expect(retries.count == 2)
        #expect(retries.allSatisfy { $0.httpStatus == 429 && $0.stage == "download-exports" && $0.call?.hasPrefix("GET /workflows/") == true })
        #expect(recorded.events.filter { $0.event == .wait }.map(\.waitSeconds) == [2, 2])
        let tally = try #require(manifest.result(for: "globex")?.summary?.requests)
        #expect(tally.retries == 2 && tally.rateLimited == 2 && tally.waits == 2)
    }

    @Test func aFailedCustomerIsAnEventWithItsStageAndNoSecret() async throws {
        let workspace = try TestWorkspace()
        let recorded = RecordedRunEvents()
        var runner = workspace.runner(transport: FixtureTransport(mock: try workspace.mock()))
        runner.events = recorded
        var customers = workspace.customers(["globex"])
        customers[0].secret = .inline("Wr0ngSecretValue")
        _ = try await runner.start(pipeline: try workspace.pipeline(), pipelinePath: "p.yaml", customers: customers)
        let failed = try #require(recorded.events.first { $0.event == .customerFailed })
        #expect(failed.stage == "oauth-token")
        #expect(failed.status == "failed")
        #expect(failed.message?.isEmpty == false)
        #expect(!recorded.events.map { $0.jsonLine() }.joined().contains("Wr0ngSecretValue"))
    }

    @Test func theBoardShowsExportsRateAndETA() {
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        var board = ProgressBoard()
        board.apply(RunEvent(.runStarted, time: start, run: "r1"))
        board.apply(RunEvent(.stageStarted, time: start, run: "r1", customer: "globex", stage: "download-exports"))
        var progress = RunEvent(.progress, time: start.addingTimeInterval(10), run: "r1", customer: "globex", stage: "download-exports")
        progress.done = 50
        progress.total = 150
        progress.unit = "exports"
        board.apply(progress)
        var retry = RunEvent(.retry, time: start.addingTimeInterval(10), run: "r1", customer: "globex", stage: "download-exports")
        retry.httpStatus = 429
        board.apply(retry)
        board.apply(RunEvent(.wait, time: start.addingTimeInterval(10), run: "r1", customer: "globex", stage: "download-exports"))
        let lines = board.render(now: start.addingTimeInterval(10))
        #expect(lines.count == 2)
        #expect(lines[0] == "run r1  10.0 s")
        #expect(lines[1].contains("download-exports"))
        #expect(lines[1].contains("exports 50/150"))
        #expect(lines[1].contains("5.0/s"))
        #expect(lines[1].contains("ETA 20 s"))
        #expect(lines[1].contains("retries 1") && lines[1].contains("waits 1"))
        let plain = board.plainLine(for: progress, now: start.addingTimeInterval(10), isProgressDue: true)
        #expect(plain == "globex: download-exports 50/150 exports, 5.0/s, ETA 20 s")
        #expect(board.plainLine(for: progress, now: start, isProgressDue: false) == nil)
    }

    @Test func eventLinesRoundTripWithSnakeCaseKeys() throws {
        var event = RunEvent(.retry, time: Date(timeIntervalSince1970: 1_767_225_600), run: "r1", customer: "c", stage: "s")
        event.httpStatus = 503
        event.waitSeconds = 1.5
        event.attempt = 2
        let line = event.jsonLine()
        #expect(line == #"{"attempt":2,"customer":"c","event":"retry","http_status":503,"run":"r1","stage":"s","time":"2026-01-01T00:00:00.000Z","wait_seconds":1.5}"#)
        #expect(try RunEvent.parse(line: line) == event)
    }
}

/// The same through the binary: `--events`, `--json`, and plain progress lines on a non-terminal.
@Suite("Run events on the command line")
struct RunEventCommandLineTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.writeCustomers()
    }


    @Test(arguments: ["--events", "--json"])
    func eventsPrintsOneJSONEventPerLine(flag: String) async throws {
        let result = try await workspace.zuoraSync(["run", "--all", "--pipeline", TestWorkspace.pipelinePath, flag])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let events = try lines.map { try RunEvent.parse(line: $0) }
        #expect(events.first?.event == .runStarted)
        #expect(events.last?.event == .runFinished && events.last?.status == "succeeded")
        #expect(events.contains { $0.event == .stageFinished && $0.customer == "initech" && $0.stage == "extract-tasks" && $0.counts?["tasks"] == 39 })
        #expect(!result.stdout.contains("Where to look next"))
        // events.jsonl holds the same lines.
        let runID = try #require(events.first?.run)
        let logged = try String(contentsOf: workspace.data.events(runID), encoding: .utf8)
        #expect(logged.split(separator: "\n").map(String.init) == lines)
    }

    @Test func workWithJSONPrintsTheEventsOfEachJob() async throws {
        #expect(try await workspace.zuoraSync(["sync", "--all", "--pipeline", TestWorkspace.pipelinePath]).exitCode == 0)
        let work = try await workspace.zuoraSync(["work", "--stop-when-empty", "--json"])
        #expect(work.exitCode == 0, "\(work.stderr)")
        let events = try work.stdout.split(separator: "\n").map { try RunEvent.parse(line: String($0)) }
        #expect(events.filter { $0.event == .runStarted }.count == 2, "one run per queued job")
        #expect(events.filter { $0.event == .customerFinished }.compactMap(\.customer).sorted() == ["globex", "initech"])
        #expect(!work.stdout.contains("attempt 1/"), "no job lines among the JSON events")
    }

    @Test func aNonTerminalGetsPlainLinesPerStage() async throws {
        let result = try await workspace.zuoraSync(["run", "--all", "--pipeline", TestWorkspace.pipelinePath])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stderr.contains("globex: download-exports started"))
        #expect(result.stderr.contains("initech: extract-tasks committed in"))
        #expect(result.stderr.contains("initech: done in"))
        #expect(result.stderr.contains(" succeeded\n"))
        #expect(!result.stderr.contains("\u{1B}["), "no terminal control codes when stderr is not a terminal")
        #expect(result.stdout.contains("Where to look next"))
    }

    /// On a terminal (a pty from util-linux `script`): the board is redrawn in place, and log
    /// lines are printed above it instead of tearing it.
    @Test(.enabled(if: ExternalTools.find("script") != nil, "util-linux script is not installed: no pty to test the live display on"))
    func aTerminalGetsTheBoardRedrawnInPlaceWithLogLinesAbove() async throws {
        let script = try #require(ExternalTools.find("script"))
        let command = ["TERM=xterm", CommandLineRunner.binary.path, "run", "--all", "--pipeline", TestWorkspace.pipelinePath,
                       "--data-dir", workspace.data.root.path, "--fixtures", workspace.fixtures.path,
                       "--customers", workspace.root.appendingPathComponent("customers.yaml").path].joined(separator: " ")
        let result = try await ExternalTools.run(script, ["-q", "-e", "-c", command, "/dev/null"])
        #expect(result.status == 0, "\(result.stdout)")
        let output = result.stdout.replacingOccurrences(of: "\r", with: "")
        #expect(output.contains("\u{1B}[J"), "the board is cleared and redrawn")
        // The last board drawn, after the last erase: every customer finished.
        let last = try #require(output.components(separatedBy: "\u{1B}[J").last)
        #expect(last.hasPrefix("run "))
        #expect(last.contains("globex    succeeded") && last.contains("pages 3  exports 123/123"))
        // A warning was logged while the board was up: it is printed whole, then the board again.
        let warning = try #require(output.components(separatedBy: "\u{1B}[J").first { $0.contains("stage.warning") })
        #expect(warning.hasPrefix("20"), "the log line starts a line of its own")
        #expect(warning.contains("[ZuoraSyncEngine] stage.warning\nrun "), "the board follows the log line")
    }
}

/// How the display paces its output, on a manual clock.
@Suite("Progress pacing")
struct ProgressPacingTests {
    static let start = Date(timeIntervalSince1970: 1_767_225_600)

    static func progress(_ done: Int, of total: Int, at seconds: Double) -> RunEvent {
        var event = RunEvent(.progress, time: start.addingTimeInterval(seconds), run: "r1", customer: "globex", stage: "download-exports")
        event.done = done
        event.total = total
        event.unit = "exports"
        return event
    }

    @Test func plainLinesComeAtMostEveryFiveSecondsPerCustomer() {
        let clock = ManualClock(Self.start)
        var view = ProgressView(mode: .plain)
        #expect(view.output(for: RunEvent(.runStarted, time: clock.now(), run: "r1"), now: clock.now()) != .none)
        #expect(view.output(for: RunEvent(.stageStarted, time: clock.now(), run: "r1", customer: "globex", stage: "download-exports"), now: clock.now())
                == .lines(["globex: download-exports started"]))
        var printed: [String] = []
        for second in stride(from: 0.5, through: 12, by: 0.5) {
            clock.advance(seconds: 0.5)
            if case .lines(let lines) = view.output(for: Self.progress(Int(second * 10), of: 200, at: second), now: clock.now()) { printed += lines }
        }
        #expect(printed == ["globex: download-exports 50/200 exports, 10.0/s, ETA 15 s", "globex: download-exports 100/200 exports, 10.0/s, ETA 10 s"])
        // The last progress event is left to the stage's finish line.
        #expect(view.output(for: Self.progress(200, of: 200, at: 20), now: clock.now().addingTimeInterval(8)) == .none)
    }

    @Test func liveFramesComeAtMostTenTimesASecondButAtOnceForStageChanges() {
        var view = ProgressView(mode: .live)
        #expect(view.output(for: RunEvent(.runStarted, time: Self.start, run: "r1"), now: Self.start) != .none)
        #expect(view.output(for: Self.progress(1, of: 10, at: 0.01), now: Self.start.addingTimeInterval(0.01)) == .none)
        guard case .frame(let lines, let isFinal) = view.output(for: Self.progress(2, of: 10, at: 0.2), now: Self.start.addingTimeInterval(0.2)) else {
            Issue.record("a frame after 0.2 s")
            return
        }
        #expect(!isFinal && lines.last?.contains("exports 2/10") == true)
        let stage = RunEvent(.stageStarted, time: Self.start.addingTimeInterval(0.21), run: "r1", customer: "globex", stage: "save-workflows")
        #expect(view.output(for: stage, now: Self.start.addingTimeInterval(0.21)) != .none)
        let finished = RunEvent(.runFinished, time: Self.start.addingTimeInterval(0.22), run: "r1")
        guard case .frame(_, let final) = view.output(for: finished, now: Self.start.addingTimeInterval(0.22)) else {
            Issue.record("a last frame")
            return
        }
        #expect(final)
    }
}
