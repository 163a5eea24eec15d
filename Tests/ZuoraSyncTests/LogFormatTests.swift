import Foundation
import Testing
@testable import ZuoraSyncCore
import ZuoraSyncTesting

/// `--log-format json` and `ZUORA_SYNC_LOG_FORMAT`: one JSON object per line with typed fields.
@Suite("Log formats")
struct LogFormatTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.writeCustomers()
    }


    /// Every stderr line is a JSON object; returns them.
    func jsonLines(_ stderr: String) throws -> [[String: JSONValue]] {
        try stderr.split(separator: "\n").map { line in
            let value = try JSONValue.parse(Data(line.utf8))
            return try #require(value.objectValue, "not a JSON object: \(line)")
        }
    }

    @Test func jsonLogLinesHaveTypedFields() async throws {
        let result = try await workspace.zuoraSync(["run", "--all", "--pipeline", TestWorkspace.pipelinePath, "-v", "--log-format", "json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try jsonLines(result.stderr)
        let committed = lines.filter { $0["message"]?.stringValue == "stage.committed" }
        #expect(committed.count == 14)
        let line = try #require(committed.first)
        #expect(line["level"]?.stringValue == "info")
        #expect(line["customer"]?.stringValue != nil)
        #expect(line["stage"]?.stringValue != nil)
        #expect(line["run"]?.stringValue?.isEmpty == false)
        if case .int = line["duration_ms"] {} else { Issue.record("duration_ms is not a number: \(String(describing: line["duration_ms"]))") }
        #expect(line["time"].flatMap { $0.stringValue }.flatMap(Timestamp.parse) != nil)
        let warning = try #require(lines.first { $0["message"]?.stringValue == "stage.warning" })
        #expect(warning["level"]?.stringValue == "warning")
        #expect(!result.stderr.contains("globex-demo-secret"))
    }

    @Test func requestLogLinesCarryStatusAndAttemptAsNumbers() async throws {
        let result = try await workspace.zuoraSync(["run", "--customer", "initech", "--pipeline", TestWorkspace.pipelinePath,
                                          "--log-level", "debug", "--log-format", "json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let request = try #require(try jsonLines(result.stderr).first {
            $0["message"]?.stringValue == "zuora.request" && $0["call"]?.stringValue?.hasPrefix("GET /workflows") == true
        })
        #expect(request["http.status"] == .int(200))
        #expect(request["attempt"] == .int(1))
        #expect(request["customer"]?.stringValue == "initech")
        #expect(!result.stderr.contains("initech-demo-secret") && !result.stderr.contains("Bearer"))
    }

    @Test func theEnvironmentChoosesTheFormatAndTextStaysTheDefault() async throws {
        let json = try await workspace.zuoraSync(["run", "--customer", "initech", "--pipeline", TestWorkspace.pipelinePath, "-v"],
                                       environment: ["ZUORA_SYNC_LOG_FORMAT": "json"])
        #expect(json.exitCode == 0, "\(json.stderr)")
        #expect(try jsonLines(json.stderr).contains { $0["message"]?.stringValue == "run.finished" && $0["status"]?.stringValue == "succeeded" })

        let text = try await workspace.zuoraSync(["run", "--customer", "initech", "--pipeline", TestWorkspace.pipelinePath, "-v"])
        #expect(text.exitCode == 0)
        #expect(text.stderr.contains(" info zuora-sync: "))
        #expect(!text.stderr.hasPrefix("{"))
    }

    @Test(arguments: [(["--log-format", "xml"], [String: String]()), ([], ["ZUORA_SYNC_LOG_FORMAT": "yaml"])])
    func anUnknownFormatIsAUsageError(arguments: [String], environment: [String: String]) async throws {
        let result = try await workspace.zuoraSync(["runs"] + arguments, environment: environment)
        #expect(result.exitCode == 64)
        #expect(result.stderr.contains("use text or json"))
    }
}
