import Foundation
import Synchronization
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncStore

/// The PostgreSQL server of the tests: the one `make test` started (`ZUORA_SYNC_TEST_POSTGRES`,
/// see scripts/postgres-test-server.sh), else one this test process starts with the same script
/// and stops at exit. Tests that need it are skipped, with this reason, only when this machine
/// has no PostgreSQL server binaries.
enum TestPostgres {
    struct Server: Sendable {
        let url: String
        let directory: String?
    }

    static let server: Server? = {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["ZUORA_SYNC_TEST_POSTGRES"], !url.isEmpty {
            return Server(url: url, directory: environment["ZUORA_SYNC_TEST_POSTGRES_DIR"])
        }
        let script = TestWorkspace.repositoryRoot.appendingPathComponent("scripts/postgres-test-server.sh").path
        // The script writes its answer to a file: the server it starts must not hold a pipe of ours.
        let answer = FileManager.default.temporaryDirectory.appendingPathComponent("zuora-sync-pg-\(getpid()).txt")
        do {
            try Self.shell(["bash", script, "start", answer.path])
        } catch {
            // Exit 3: no server binaries on this machine, the one case the tests may skip.
            if "\(error)".hasSuffix("status 768") { return nil }
            startFailure.withLock { $0 = "the PostgreSQL test server did not start: \(error); see scripts/postgres-test-server.sh" }
            return nil
        }
        guard
              let output = try? String(contentsOf: answer, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              let space = output.firstIndex(of: " ") else { return nil }
        try? FileManager.default.removeItem(at: answer)
        let server = Server(url: String(output[..<space]), directory: String(output[output.index(after: space)...]))
        startedDirectory.withLock { $0 = server.directory }
        atexit {
            if let directory = TestPostgres.startedDirectory.withLock({ $0 }) {
                let script = TestWorkspace.repositoryRoot.appendingPathComponent("scripts/postgres-test-server.sh").path
                try? TestPostgres.shell(["bash", script, "stop", directory])
            }
        }
        return server
    }()

    static let startedDirectory = Mutex<String?>(nil)
    /// Set when server binaries exist but the server failed to start: the tests then fail, saying so.
    static let startFailure = Mutex<String?>(nil)

    /// True when the tests can run on PostgreSQL, or must fail because a present server did not start.
    static var isAvailable: Bool { server != nil || startFailure.withLock({ $0 }) != nil }
    static let skipReason: Comment = "no PostgreSQL server binaries on this machine (apt-get install -y postgresql); `make test` starts one"

    /// A new, empty database on the test server, for one test.
    static func freshDatabase() throws -> PostgresLocation {
        guard let server else { throw StoreError(startFailure.withLock { $0 } ?? "no PostgreSQL test server", isRetryable: false) }
        let admin = try PostgresDatabase(location: try PostgresLocation(url: server.url, passwordEnv: nil, origin: "test"), environment: [:])
        let name = "zs_" + RandomSource.system.hex(digits: 16)
        try admin.executeOutsideTransaction("CREATE DATABASE \(name)")
        var components = URLComponents(string: server.url)!
        components.path = "/" + name
        return try PostgresLocation(url: components.string!, passwordEnv: nil, origin: "test")
    }

    /// A fresh PostgreSQL store, migrated.
    static func freshStore() throws -> Store {
        try Store(postgres: try freshDatabase(), environment: [:])
    }

    /// Runs a command and waits with waitpid (Foundation's Process can miss the exit of a child
    /// started while a static initialiser runs); stdout and stderr go to /dev/null.
    static func shell(_ arguments: [String]) throws {
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ) == 0 else {
            throw StoreError("cannot start \(arguments.joined(separator: " "))", isRetryable: false)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw StoreError("\(arguments.joined(separator: " ")) exited with status \(status)", isRetryable: false) }
    }
}

/// Which store a parameterised test runs on.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgresql
    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind (an SQLite file in `directory`).
    func makeStore(in directory: URL) throws -> Store {
        switch self {
        case .sqlite: return try Store(url: directory.appendingPathComponent("store.sqlite"))
        case .postgresql: return try TestPostgres.freshStore()
        }
    }

    /// The backends this machine can run: PostgreSQL whenever a server could be started.
    static var available: [StoreBackend] { TestPostgres.isAvailable ? allCases : [.sqlite] }
}
