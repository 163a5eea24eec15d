import Foundation
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Runs the built `zuora-sync` binary and captures what a person would see.
struct CommandResult: Sendable {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

enum CommandLineRunner {
    static var binary: URL {
        BuiltProducts.zuoraSync
    }

    /// Runs the binary without blocking a cooperative thread: the pipes are drained on their own
    /// threads and the exit arrives through a continuation (on 2 cores the pool has 2 threads, and
    /// tests run in parallel).
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL) async throws -> CommandResult {
        try await RunningCommand(arguments, environment: environment, in: directory).result()
    }
}

extension TestWorkspace {
    /// Runs the binary in this workspace (its data directory and fixtures), as a person would.
    func zuoraSync(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        try await CommandLineRunner.run(arguments + ["--data-dir", data.root.path, "--fixtures", fixtures.path],
                                        environment: environment, in: root)
    }

    /// Writes `customers.yaml` (the default customers file in the workspace) for fixture tenants.
    func writeCustomers(secrets: [String: String] = ["globex": "globex-demo-secret", "initech": "initech-demo-secret"]) throws {
        var text = "customers:\n"
        for (id, secret) in secrets.sorted(by: { $0.key < $1.key }) {
            text += "  - {id: \(id), name: \(id.capitalized), base_url: \"fixture://\(id)\", client_id: \(id)-client, client_secret: \(secret)}\n"
        }
        try text.write(to: root.appendingPathComponent("customers.yaml"), atomically: true, encoding: .utf8)
    }
}

/// A `zuora-sync` process started in the background (to signal it while it works).
final class RunningCommand: @unchecked Sendable {
    // @unchecked: `process` is only used from the test that owns this value.
    let process = Process()
    private let stdout: PipeCollector
    private let stderr: PipeCollector
    private let exited = DispatchSemaphore(value: 0)

    init(_ arguments: [String], environment: [String: String] = [:], in directory: URL) throws {
        process.executableURL = CommandLineRunner.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["ZUORA_SYNC_DATA_DIR"] = nil
        env["ZUORA_SYNC_CUSTOMERS"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        stdout = PipeCollector(out.fileHandleForReading)
        stderr = PipeCollector(err.fileHandleForReading)
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
    }

    /// Sends a signal (SIGINT, SIGTERM).
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit without blocking a cooperative thread.
    func result() async -> CommandResult {
        await withCheckedContinuation { continuation in
            Thread { [exited] in
                exited.wait()
                continuation.resume()
            }.start()
        }
        return CommandResult(exitCode: process.terminationStatus, stdout: await stdout.text(), stderr: await stderr.text())
    }
}

/// Reads a pipe to its end on a dedicated thread.
final class PipeCollector: @unchecked Sendable {
    // @unchecked: `data` is written once by the reader thread before `done` is signalled, read after.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            // Closed at once: hundreds of processes (the crash matrix) would otherwise leak
            // descriptors past FD_SETSIZE, where Foundation's Process.run corrupts memory.
            try? handle.close()
            done.signal()
        }.start()
    }

    func text() async -> String {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                done.wait()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
    }
}
