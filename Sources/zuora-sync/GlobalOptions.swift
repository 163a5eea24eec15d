import ArgumentParser
import Foundation
import Logging
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncHTTP
import ZuoraSyncJobs
import ZuoraSyncMock
import ZuoraSyncStages
import ZuoraSyncStore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $ZUORA_SYNC_DATA_DIR or data).")
    var dataDir: String?

    @Option(name: .customLong("customers"), help: "Customers file (default: $ZUORA_SYNC_CUSTOMERS or customers.yaml).")
    var customersFile: String?

    @Option(name: .customLong("fixtures"), help: "Fixture tenants for fixture:// base URLs (default: $ZUORA_SYNC_FIXTURES or fixtures/demo).")
    var fixtures: String?

    @Option(name: .customLong("store"), help: "The store: sqlite (default, store.sqlite in the data directory) or postgresql://user@host:port/db (default: $ZUORA_SYNC_STORE, else `store:` in the customers file). Passwords come from PGPASSWORD or ~/.pgpass.")
    var store: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (default: warning).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json: JSON lines with typed fields (default: $ZUORA_SYNC_LOG_FORMAT or text).")
    var logFormat: String?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Log progress (same as --log-level info).")
    var verbose = false

    var environment: [String: String] { ProcessEnvironment.current() }

    var dataDirectory: DataDirectory {
        DataDirectory(path: dataDir ?? environment["ZUORA_SYNC_DATA_DIR"] ?? "data")
    }

    var customersPath: String { customersFile ?? environment["ZUORA_SYNC_CUSTOMERS"] ?? "customers.yaml" }

    var fixturesDirectory: URL {
        URL(fileURLWithPath: fixtures ?? environment["ZUORA_SYNC_FIXTURES"] ?? "fixtures/demo", isDirectory: true)
    }

    func loadCustomers() throws -> [CustomerConfig] {
        guard FileManager.default.fileExists(atPath: customersPath) else {
            throw ConfigurationError(file: customersPath, message: "no customers file here. Copy customers.example.yaml to customers.yaml, or pass --customers FILE (customers.demo.yaml runs on the built-in mock).")
        }
        return try CustomersLoader.load(path: customersPath)
    }

    /// `--store`, else `ZUORA_SYNC_STORE`, else the customers file's `store:`, else SQLite in the data directory.
    func storeLocation() throws -> StoreLocation {
        if let store { return try StoreLocation.parse(store, origin: "--store") }
        if let store = environment["ZUORA_SYNC_STORE"], !store.isEmpty { return try StoreLocation.parse(store, origin: "ZUORA_SYNC_STORE") }
        if FileManager.default.fileExists(atPath: customersPath), let store = try CustomersLoader.store(path: customersPath) { return store }
        return .sqlite(path: nil)
    }

    /// Opens the store (creating or upgrading its schema).
    func openStore() throws -> Store {
        try Store.opening(try storeLocation(), dataDirectory: dataDirectory, environment: environment)
    }

    /// Whether there is a store to read: always for PostgreSQL, for SQLite once its file exists.
    func storeExists() throws -> Bool {
        if case .sqlite(let path) = try storeLocation() {
            return FileManager.default.fileExists(atPath: path ?? dataDirectory.storeFile.path)
        }
        return true
    }

    /// The job queue: the data directory's `jobs/`, or the PostgreSQL store's jobs table.
    func jobQueue() throws -> any JobQueueing {
        try JobQueues.make(try storeLocation(), dataDirectory: dataDirectory, environment: environment)
    }

    /// How log lines are written.
    enum LogFormat: String, CaseIterable {
        case text, json
    }

    /// `--log-format`, else `ZUORA_SYNC_LOG_FORMAT`, else text.
    var resolvedLogFormat: LogFormat {
        (logFormat ?? environment["ZUORA_SYNC_LOG_FORMAT"]).flatMap { LogFormat(rawValue: $0.lowercased()) } ?? .text
    }

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("unknown --log-level '\(logLevel)'; use one of trace, debug, info, notice, warning, error, critical.")
        }
        if let format = logFormat ?? environment["ZUORA_SYNC_LOG_FORMAT"], LogFormat(rawValue: format.lowercased()) == nil {
            let origin = logFormat != nil ? "--log-format" : "ZUORA_SYNC_LOG_FORMAT"
            throw ValidationError("unknown \(origin) '\(format)'; use text or json.")
        }
    }

    /// Sends log lines to stderr at the chosen level and format; only the executable does this.
    func bootstrapLogging() {
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (verbose ? .info : .warning)
        let format = resolvedLogFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                var handler = JSONLogHandler(label: label, write: { StandardError.shared.write($0) })
                handler.logLevel = level
                return handler
            case .text:
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }

    var logger: Logger { Logger(label: "zuora-sync") }

    /// The transport for every base URL kind: fixture:// in process, https and loopback http through libcurl.
    func makeTransport(http: HTTPSettings) -> any HTTPTransport {
        Self.makeTransport(http: http, fixtures: fixturesDirectory, environment: environment)
    }

    /// libcurl for https and loopback http, the in-process mock for fixture:// (with the faults of
    /// `ZUORA_SYNC_FIXTURE_FAULTS`, mock-server syntax, for crash and fault tests of the binary).
    static func makeTransport(http: HTTPSettings, fixtures: URL, environment: [String: String]) -> any HTTPTransport {
        let faults = (try? FaultPlan(spec: environment["ZUORA_SYNC_FIXTURE_FAULTS"] ?? "")) ?? FaultPlan()
        return TransportRouter(network: ZuoraRequestRules.curlTransport(settings: http),
                               byScheme: [FixtureTransport.scheme: FixtureTransport(fixtures: fixtures, faults: faults)])
    }
}

/// The one place that turns errors into messages and exit codes: 0 ok, 1 a customer failed or
/// another failure, 64 bad usage or configuration, 130/143 stopped by SIGINT/SIGTERM. Every
/// message is printed once, by `ZuoraSync.main`, with an `error:` prefix.
enum ExitCodes {
    static let customerFailed: Int32 = 1
    static let usage: Int32 = 64

    /// Kept for the commands' `catch` blocks: errors pass through to `ZuoraSync.main`.
    static func fail(_ error: any Error) -> any Error { error }

    /// The exit code for an error that reached `main`.
    static func code(for error: any Error) -> Int32 {
        switch error {
        case let exit as ExitCode: return exit.rawValue
        case is ConfigurationError, is ValidationError, is FaultPlan.ParseError: return usage
        case let file as FileError where file.isUsageError: return usage
        default:
            let code = ZuoraSync.exitCode(for: error).rawValue
            return code == 0 ? 0 : (code == usage ? usage : customerFailed)
        }
    }

    /// The text printed for an error: ArgumentParser's for usage errors, the error's own otherwise.
    static func message(for error: any Error) -> String {
        switch error {
        case is ConfigurationError, is FileError, is FaultPlan.ParseError: return String(describing: error)
        default:
            var text = ZuoraSync.fullMessage(for: error)
            if text.hasPrefix("Error: ") { text = String(text.dropFirst("Error: ".count)) }
            return text
        }
    }
}
