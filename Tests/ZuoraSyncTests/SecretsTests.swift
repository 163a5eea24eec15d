import Foundation
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
import ZuoraSyncTesting

/// Every command, with a known secret and tokens, against a mock that echoes credentials back in
/// its error bodies: neither the secret nor any token appears (plain, URL-encoded or base64) in the
/// data directory, stdout, stderr or the trace-level logs.
@Suite("Secrets never leak", .timeLimit(.minutes(5)))
struct SecretsTests {
    static let secret = "S3cret+/=value-%&zq"

    @Test func noCommandLeaksTheSecretOrATokenAnywhere() async throws {
        let workspace = try TestWorkspace()
        // initech's secret is the known value; its exports answer 403 echoing the request.
        let tenant = workspace.fixtures.appendingPathComponent("initech/tenant.json")
        try JSONValue.object(["clientID": .string("initech-client"), "clientSecret": .string(Self.secret), "tokenTTL": .int(3599)])
            .canonicalData().write(to: tenant)
        let server = try MockServerProcess(fixtures: workspace.fixtures, faults: "echo=403:export@2x3,echo=400:token@3")
        let customers = workspace.root.appendingPathComponent("customers.yaml")
        try """
            customers:
              - {id: initech, base_url: "\(server.baseURL("initech"))", client_id: initech-client, client_secret_env: INITECH_SECRET}
              - {id: globex, base_url: "\(server.baseURL("globex"))", client_id: globex-client, client_secret: globex-demo-secret}
            """.write(to: customers, atomically: true, encoding: .utf8)
        let environment = ["INITECH_SECRET": Self.secret, "ZUORA_SYNC_LOG_FORMAT": "text"]
        let common = ["--customers", customers.path, "--data-dir", workspace.data.root.path, "--log-level", "trace"]
        var outputs: [(String, CommandResult)] = []
        func run(_ arguments: [String]) async throws {
            outputs.append((arguments.joined(separator: " "), try await CommandLineRunner.run(arguments + common, environment: environment, in: workspace.root)))
        }
        try await run(["validate", TestWorkspace.pipelinePath])
        try await run(["customers", "validate"])
        try await run(["customers", "validate"])
        try await run(["customers", "validate"]) // the third token request is echoed back with the secret in it
        try await run(["run", "--all", "--pipeline", TestWorkspace.pipelinePath])
        try await run(["run", "--all", "--full", "--pipeline", TestWorkspace.pipelinePath])
        try await run(["runs"])
        try await run(["runs", "--json"])
        try await run(["inspect"])
        try await run(["inspect", "--json"])
        try await run(["diff", "--customer", "initech"])
        try await run(["customers", "list"])
        try await run(["sync", "--all", "--pipeline", TestWorkspace.pipelinePath])
        try await run(["work", "--stop-when-empty"])
        try await run(["jobs", "list", "--json"])
        try await run(["resume"])
        try await run(["trash", "list"])
        try await run(["rebuild-tasks"])
        #expect(outputs.contains { $0.1.stderr.contains("[redacted]") || $0.1.stdout.contains("[redacted]") }, "the echo faults were hit")

        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let forms = [Self.secret, Self.secret.addingPercentEncoding(withAllowedCharacters: allowed)!, Data(Self.secret.utf8).base64EncodedString(),
                     "mock-"]
        for (command, result) in outputs {
            for form in forms {
                #expect(!result.stdout.contains(form), "stdout of `\(command)` holds \(form)")
                #expect(!result.stderr.contains(form), "stderr of `\(command)` holds \(form)")
            }
        }
        for (path, data) in workspace.files(under: workspace.data.root) {
            let text = String(decoding: data, as: UTF8.self)
            for form in forms { #expect(!text.contains(form), "\(path) holds \(form)") }
        }
    }
}
