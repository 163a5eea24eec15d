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

struct MockServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-server",
        abstract: "Serve fixture tenants as a mock Zuora over HTTP on 127.0.0.1.",
        discussion: """
            Tenants are addressed by path: base_url http://127.0.0.1:PORT/<tenant>. GET /__stats returns request
            counts per tenant and endpoint and the maximum in flight.
            Faults (--faults, comma-separated): KIND[=VALUE][:ENDPOINT][@NTH][xTIMES], e.g. 429=2:export@3x2
            (429 with Retry-After 2 on export requests 3 and 4), 503:list, stall=5000:export@2, drop:export@4,
            revoke@10 (tokens invalidated), badjson:export@1, truncate:list@2, slow=200:any@1x*.
            """)

    @Option(help: "Fixture directory (one sub-directory per tenant).") var fixtures = "fixtures/demo"
    @Option(help: "Port on 127.0.0.1 (0: any free port).") var port: UInt16 = 8089
    @Option(help: "Latency added to every request, in milliseconds.") var latency = 0
    @Option(help: "Faults to inject (see above).") var faults = ""

    func run() async throws {
        do {
            let plan = try FaultPlan(spec: faults)
            let mock = MockZuora(fixtures: URL(fileURLWithPath: fixtures, isDirectory: true), faults: plan, latencyMilliseconds: latency)
            let server = try MockServer(mock: mock, port: port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let bound = try await server.port()
                let line = "mock Zuora listening on http://127.0.0.1:\(bound) (tenants: \(Self.tenants(in: fixtures).joined(separator: ", ")))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                try await group.next()
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }

    static func tenants(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(directory)/\($0)/tenant.json")
        }.sorted()
    }
}
