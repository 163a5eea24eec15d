import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// `zuora-sync mock-server` started as a separate process on a free port, stopped on deinit.
final class MockServerProcess {
    let process = Process()
    let port: UInt16

    init(fixtures: URL, latency: Int = 0, faults: String = "") throws {
        process.executableURL = CommandLineRunner.binary
        process.arguments = ["mock-server", "--fixtures", fixtures.path, "--port", "0", "--latency", "\(latency)", "--faults", faults]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line says where it listens.
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self)
        guard let range = line.range(of: "127.0.0.1:"), let port = UInt16(line[range.upperBound...].prefix { $0.isNumber }) else {
            process.terminate()
            throw FileError(path: "mock-server", message: "did not report its port: \(line)")
        }
        self.port = port
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    func baseURL(_ tenant: String) -> String { "http://127.0.0.1:\(port)/\(tenant)" }

    /// `GET /__stats`.
    func stats() async throws -> MockStats {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/__stats")!)
        return try CanonicalJSON.decode(MockStats.self, from: data)
    }
}
