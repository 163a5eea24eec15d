import Foundation
import Logging
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Hostile or careless configuration: bombs, huge files, bad ids and URLs, odd secret files.
@Suite("Hostile configuration")
struct HostileConfigurationTests {
    func customersError(_ text: String) -> ConfigurationError? {
        do { _ = try CustomersLoader.parse(text: text, file: "customers.yaml"); return nil } catch { return error as? ConfigurationError }
    }

    @Test func loopbackMeansAnAddressNotAPrefix() {
        for accepted in ["http://127.0.0.1:8089/x", "http://127.255.0.9", "http://localhost:1", "http://[::1]:8080/t"] {
            #expect(BaseURLRules.problem(with: URL(string: accepted)!) == nil, "\(accepted)")
        }
        for refused in ["http://127.attacker.example", "http://127.0.0.1.nip.io", "http://128.0.0.1", "http://[::2]", "http://localhost.evil.example"] {
            #expect(BaseURLRules.problem(with: URL(string: refused)!) != nil, "\(refused)")
        }
        let error = customersError("customers:\n  - {id: a, base_url: \"http://127.attacker.example\", client_id: c, client_secret: s}\n")
        #expect(error?.message.contains("not loopback") == true)
    }

    @Test func aBaseURLWithCredentialsIsRefused() throws {
        let error = try #require(customersError("customers:\n  - {id: a, base_url: \"https://user:s3cr3tpw@rest.zuora.com\", client_id: c, client_secret_env: X}\n"))
        #expect(error.message.contains("user name or password"))
        #expect(!error.description.contains("s3cr3tpw"), "the refusal does not repeat the password")
    }

    @Test func anAliasBombIsRefusedAtOnce() throws {
        var text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { text += "l\(level): &l\(level) [" + Array(repeating: level == 1 ? "*a" : "*l\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
        text += "? *l9\n: boom\ncustomers: []\n"
        let started = ContinuousClock.now
        let error = try #require(customersError(text))
        #expect(error.message.contains("aliases"))
        #expect(ContinuousClock.now - started < .seconds(60), "refused before any expansion")
        // A few aliases stay allowed.
        #expect(customersError("defaults: &d {client_id: c, client_secret_env: X}\nother: *d\ncustomers: []\n")?.message.contains("aliases") != true)
    }

    @Test func anEnormousConfigurationFileIsRefused() throws {
        let error = try #require(customersError("customers: []\n# " + String(repeating: "x", count: 1_100_000) + "\n"))
        #expect(error.message.contains("at most 1 MB"))
    }

    @Test func badCustomerIdsAreRefused() {
        for id in ["../x", "A", "a b", "", String(repeating: "a", count: 65), "-x"] {
            #expect(customersError("customers:\n  - {id: \"\(id)\", base_url: \"fixture://x\", client_id: c, client_secret: s}\n") != nil, "\(id)")
        }
    }

    @Test func secretFilesMustBeRegularAndGiveTheirFirstLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let multi = directory.appendingPathComponent("multi")
        try "  first-line-secret  \nsecond line\n".write(to: multi, atomically: true, encoding: .utf8)
        #expect(try SecretSource.file(multi.path).resolve(environment: [:]) == "first-line-secret")
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: multi)
        #expect(throws: SecretError.self) { try SecretSource.file(link.path).resolve(environment: [:]) }
        #expect(throws: SecretError.self) { try SecretSource.file(directory.path).resolve(environment: [:]) }
        let fifo = directory.appendingPathComponent("fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: SecretError.self) { try SecretSource.file(fifo.path).resolve(environment: [:]) }
        do { _ = try SecretSource.file(link.path).resolve(environment: [:]) } catch {
            #expect("\(error)".contains("symbolic link") && !"\(error)".contains("first-line-secret"))
        }
    }

    @Test func aSymlinkInsideTheDataDirectoryIsNeverFollowed() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let outside = workspace.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try "keep me".write(to: outside.appendingPathComponent("precious.json"), atomically: true, encoding: .utf8)
        let workflows = workspace.data.root.appendingPathComponent("snapshots/initech/workflows")
        try FileManager.default.removeItem(at: workflows)
        try FileManager.default.createSymbolicLink(at: workflows, withDestinationURL: outside)
        let second = try await workspace.sync(["initech"], options: RunOptions(full: true))
        #expect(second.result(for: "initech")?.status == .failed)
        #expect(second.result(for: "initech")?.error?.contains("symbolic link") == true)
        #expect(try String(contentsOf: outside.appendingPathComponent("precious.json"), encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path) == ["precious.json"])
    }

    @Test func concurrentEnqueuesQueueEachCustomerOnce() async throws {
        let workspace = try TestWorkspace()
        let queue = JobQueue(dataDirectory: workspace.data)
        let created = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (try? queue.enqueue(pipelinePath: "/p.yaml", customer: "initech", settings: JobSettings(), now: Date(timeIntervalSince1970: 0))) == nil ? 0 : 1
                }
            }
            return await group.reduce(0, +)
        }
        #expect(created == 1)
        #expect(queue.jobs().count == 1)
    }

    @Test func aHangingNotificationCommandIsStopped() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var notifier = Notifier(settings: NotificationSettings(command: "exec sleep 300", timeoutSeconds: 1), logger: logger)
        let clock = ManualClock()
        notifier.clock = clock
        await notifier.notify(FailureNotice(text: "t", customer: "c", pipeline: "p", error: "e", attempts: 1, runID: nil, jobID: "j"))
        // Waited its timeout (in manual-clock time), then stopped the command: the call returned.
        #expect(abs(clock.recordedSleeps.dropLast().reduce(0, +) - 1) < 0.05)
    }

    @Test func readCommandsWorkOnAReadOnlyDataDirectory() async throws {
        let workspace = try TestWorkspace()
        try await workspace.sync(["initech"])
        let customers = workspace.root.appendingPathComponent("customers.yaml")
        try "customers:\n  - {id: initech, base_url: \"fixture://initech\", client_id: c, client_secret: initech-demo-secret}\n"
            .write(to: customers, atomically: true, encoding: .utf8)
        // Read-only for the owner too (root ignores mode bits, so a read-only store opening is
        // what is checked: nothing may be created).
        let before = Set(workspace.files(under: workspace.data.root).keys)
        let listed = try await CommandLineRunner.run(["customers", "list", "--customers", customers.path, "--data-dir", workspace.data.root.path], in: workspace.root)
        #expect(listed.exitCode == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("succeeded"))
        // Nothing is created but SQLite's reader files (no lock file, no migration, no new store).
        let after = Set(workspace.files(under: workspace.data.root).keys)
        #expect(after.subtracting(before).subtracting(["store.sqlite-shm", "store.sqlite-wal"]).isEmpty, "a read command wrote \(after.subtracting(before))")
    }

    @Test func leftoverTemporaryFilesAreSweptByTheNextRun() async throws {
        let workspace = try TestWorkspace()
        let first = try await workspace.sync(["initech"])
        let stale = workspace.data.root.appendingPathComponent("snapshots/initech/workflows/.40.json.tmp-999999999-abcdef01")
        try "partial".write(to: stale, atomically: false, encoding: .utf8)
        // A refresh killed while writing a snapshot had removed the record of the last whole check
        // before it started (so the next refresh checks, and sweeps, every file).
        let verified = SnapshotWriter(dataDirectory: workspace.data.root).verifiedFile("initech")
        #expect(FileManager.default.fileExists(atPath: verified.path))
        try FileManager.default.removeItem(at: verified)
        let inRun = workspace.data.stage(run: first.id, customer: "initech", index: 3, stageID: "download-exports").appendingPathComponent("exports/.41.json.tmp-999999999-00000000")
        try "partial".write(to: inRun, atomically: false, encoding: .utf8)
        var manifest = first
        manifest.status = .failed
        try CanonicalJSON.write(manifest, to: workspace.data.manifest(first.id))
        _ = try await workspace.runner(transport: FixtureTransport(mock: try workspace.mock())).resume(runID: first.id, customers: workspace.customers(["initech"]))
        try await workspace.sync(["initech"])
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(!FileManager.default.fileExists(atPath: inRun.path))
    }
}
