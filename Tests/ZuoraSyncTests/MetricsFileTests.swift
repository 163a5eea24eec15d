import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncJobs
import ZuoraSyncTesting

/// `metrics/zuora_sync.prom`, written after each run, read back by Prometheus' own Python parser.
@Suite("Metrics file")
struct MetricsFileTests {
    /// Parses a text-format file with prometheus_client and prints `name{labels} value` per sample,
    /// labels sorted, so the test compares what Prometheus would see.
    static let parser = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        text = open(sys.argv[1]).read()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                print(f"{family.type} {sample.name}{{{labels}}} {float(sample.value)!r}")
        """

    @Test(.enabled(if: ExternalTools.python3 != nil, "python3 is not installed: the metrics file is checked with prometheus_client's parser (make deps)"))
    func theMetricsFileParsesAndHoldsEachCustomersFigures() async throws {
        let workspace = try TestWorkspace()
        try workspace.writeCustomers(secrets: ["globex": "Wr0ngSecretValue", "initech": "initech-demo-secret"])
        let run = try await CommandLineRunner.run(["run", "--all", "--pipeline", TestWorkspace.pipelinePath, "--data-dir", workspace.data.root.path,
                                                   "--fixtures", workspace.fixtures.path], in: workspace.root)
        #expect(run.exitCode == 1, "globex fails on its secret")
        let file = workspace.data.metricsFile
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(!text.contains("Wr0ngSecretValue") && !text.contains("demo-secret"))

        let python = try #require(ExternalTools.python3)
        let script = workspace.root.appendingPathComponent("parse_metrics.py")
        try Self.parser.write(to: script, atomically: true, encoding: .utf8)
        let parsed = try await ExternalTools.run(python, [script.path, file.path])
        try #require(!parsed.stderr.contains("No module named 'prometheus_client'"), "prometheus_client is missing: run `make deps` (pip install prometheus_client)")
        #expect(parsed.status == 0, "prometheus_client refused the file: \(parsed.stderr)")
        let samples = Set(parsed.stdout.split(separator: "\n").map(String.init))
        #expect(samples.contains(#"gauge zuora_sync_last_run_success{customer="initech"} 1.0"#))
        #expect(samples.contains(#"gauge zuora_sync_last_run_success{customer="globex"} 0.0"#))
        #expect(samples.contains(#"gauge zuora_sync_last_run_status{customer="globex",status="failed"} 1.0"#))
        #expect(samples.contains(#"gauge zuora_sync_workflows{customer="initech"} 6.0"#))
        #expect(samples.contains(#"gauge zuora_sync_tasks{customer="initech"} 39.0"#))
        #expect(samples.contains(#"gauge zuora_sync_last_run_exports{customer="initech",outcome="downloaded"} 6.0"#))
        #expect(samples.contains(#"gauge zuora_sync_last_run_requests{customer="initech"} 7.0"#))
        #expect(samples.contains(#"gauge zuora_sync_last_run_rate_limited{customer="initech"} 0.0"#))
        #expect(samples.contains(#"gauge zuora_sync_queue_jobs{state="waiting"} 0.0"#))
        #expect(samples.contains { $0.hasPrefix(#"gauge zuora_sync_last_success_timestamp_seconds{customer="initech"} "#) })
        #expect(!samples.contains { $0.hasPrefix(#"gauge zuora_sync_last_success_timestamp_seconds{customer="globex"}"#) }, "globex never succeeded")
        #expect(samples.contains { $0.hasPrefix(#"gauge zuora_sync_last_run_duration_seconds{customer="initech"} "#) })
    }

    @Test func labelValuesAreEscaped() {
        #expect(MetricsFile.escape("a\"b\\c\nd") == #"a\"b\\c\nd"#)
        #expect(MetricsFile.format(3) == "3")
        #expect(MetricsFile.format(0.25) == "0.25")
    }
}
