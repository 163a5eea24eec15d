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

/// The built binary against the mock server over real HTTP (libcurl), with injected faults.
@Suite("End to end over HTTP")
struct EndToEndHTTPTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func writeCustomers(_ server: MockServerProcess, secrets: [String: String]) throws -> String {
        var text = "customers:\n"
        for (id, secret) in secrets.sorted(by: { $0.key < $1.key }) {
            text += "  - {id: \(id), base_url: \"\(server.baseURL(id))\", client_id: \(id)-client, client_secret: \(secret)}\n"
        }
        let path = workspace.root.appendingPathComponent("customers.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The shipped pipeline with some values replaced.
    func pipeline(_ replacements: [(String, String)] = []) throws -> String {
        var text = try String(contentsOfFile: TestWorkspace.pipelinePath, encoding: .utf8)
        text = text.replacingOccurrences(of: "base_delay_ms: 500", with: "base_delay_ms: 20")
        for (old, new) in replacements {
            precondition(text.contains(old), "pipeline has no '\(old)'")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = workspace.root.appendingPathComponent("pipeline-\(UUID().uuidString.prefix(8)).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func sync(_ customers: String, pipeline: String, extra: [String] = []) async throws -> (CommandResult, Double) {
        let started = Date()
        let result = try await CommandLineRunner.run(["run", "--all", "--pipeline", pipeline, "--customers", customers,
                                                "--data-dir", workspace.data.root.path] + extra, in: workspace.root)
        return (result, Date().timeIntervalSince(started))
    }

    static let both = ["globex": "globex-demo-secret", "initech": "initech-demo-secret"]

    @Test func fullSyncOverHTTPAndTokenReuseAcrossProcesses() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures)
        let customers = try writeCustomers(server, secrets: Self.both)
        let pipeline = try pipeline()
        let (first, _) = try await sync(customers, pipeline: pipeline)
        #expect(first.exitCode == 0, "\(first.stderr)")
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
        let (second, _) = try await sync(customers, pipeline: pipeline)
        #expect(second.exitCode == 0)
        let stats = try await server.stats()
        #expect(stats.count("globex", .token) == 1, "one token request per customer across both processes")
        #expect(stats.count("initech", .token) == 1)
        #expect(stats.count("globex", .list) == 6)
    }

    @Test func revokedTokenMidRunIsRefreshedOnce() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures, faults: "revoke:export@5")
        let (result, _) = try await sync(try writeCustomers(server, secrets: ["globex": "globex-demo-secret"]), pipeline: try pipeline())
        #expect(result.exitCode == 0, "\(result.stdout)\(result.stderr)")
        let stats = try await server.stats()
        #expect(stats.count("globex", .token) == 2)
        #expect(try workspace.store.counts(customerSlug: "globex").workflows == 123)
    }

    @Test func retryAfterIsHonouredAndA503IsRetried() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures, faults: "429=2:export@3,503:list@1")
        let (result, elapsed) = try await sync(try writeCustomers(server, secrets: ["initech": "initech-demo-secret"]), pipeline: try pipeline())
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(elapsed >= 2.0, "waited for Retry-After: 2 (took \(elapsed) s)")
        let stats = try await server.stats()
        #expect(stats.count("initech", .export) == 7)
        #expect(stats.count("initech", .list) == 2)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
    }

    @Test func stalledAndDroppedConnectionsTimeOutAndAreRetried() async throws {
        // The stall (60 s) is far longer than the bound below, so the bound proves the cut even when
        // the whole suite loads both cores (then this run alone has taken up to 20 s).
        let server = try MockServerProcess(fixtures: workspace.fixtures, faults: "stall=60000:export@2,drop:export@4")
        let pipeline = try pipeline([("request_timeout: 120", "request_timeout: 2"), ("low_speed_time: 30", "low_speed_time: 1")])
        let (result, elapsed) = try await sync(try writeCustomers(server, secrets: ["initech": "initech-demo-secret"]), pipeline: pipeline)
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(elapsed < 45, "the 60 s stall was cut by the 2 s request timeout (took \(elapsed) s)")
        let stats = try await server.stats()
        #expect(stats.count("initech", .export) == 8, "two faulted requests, each retried once")
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
    }

    @Test func wrongCredentialsFailFastWithoutRetryWhileOthersSucceed() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures)
        let customers = try writeCustomers(server, secrets: ["globex": "not-the-secret-42", "initech": "initech-demo-secret"])
        let (result, _) = try await sync(customers, pipeline: try pipeline())
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("globex failed at oauth-token"))
        #expect(result.stdout.contains("not retryable"))
        #expect(!result.stdout.contains("not-the-secret-42") && !result.stderr.contains("not-the-secret-42"))
        let stats = try await server.stats()
        #expect(stats.count("globex", .token) == 1)
        #expect(stats.count("globex", .list) == 0)
        #expect(try workspace.store.counts(customerSlug: "initech").workflows == 6)
    }

    @Test func inFlightRequestsNeverExceedTheConfiguredConcurrency() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures, latency: 40)
        let pipeline = try pipeline([("concurrency: 8 ", "concurrency: 3 ")])
        let (result, _) = try await sync(try writeCustomers(server, secrets: ["globex": "globex-demo-secret"]), pipeline: pipeline)
        #expect(result.exitCode == 0)
        let stats = try await server.stats()
        let maximum = try #require(stats.maxInFlightByTenant["globex"])
        #expect(maximum <= 3)
        #expect(maximum >= 2, "requests did overlap")
    }

    @Test func noSecretOrTokenInTheDataDirectoryOrLogs() async throws {
        let server = try MockServerProcess(fixtures: workspace.fixtures, faults: "revoke:export@3")
        let (result, _) = try await sync(try writeCustomers(server, secrets: Self.both), pipeline: try pipeline(), extra: ["--log-level", "trace"])
        #expect(result.exitCode == 0)
        #expect(result.stderr.contains("zuora.request"), "debug logs were produced")
        let logs = result.stdout + result.stderr
        #expect(!logs.contains("demo-secret") && !logs.contains("mock-") && !logs.contains("Bearer"))
        for (path, data) in workspace.files(under: workspace.data.root) {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains("demo-secret"), "\(path)")
            #expect(!text.contains("mock-"), "\(path) holds a token")
        }
    }
}
