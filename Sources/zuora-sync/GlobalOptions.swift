import ArgumentParser
import Foundation
import Logging
import ZuoraSyncKit

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (default: $ZUORA_SYNC_DATA_DIR or data).")
    var dataDir: String?

    @Option(name: .customLong("customers"), help: "Customers file (default: $ZUORA_SYNC_CUSTOMERS or customers.yaml).")
    var customersFile: String?

    @Option(name: .customLong("fixtures"), help: "Fixture tenants for fixture:// base URLs (default: $ZUORA_SYNC_FIXTURES or fixtures/demo).")
    var fixtures: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (default: warning).")
    var logLevel: String?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Log progress (same as --log-level info).")
    var verbose = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

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

    /// Sends log lines to stderr at the chosen level; only the executable does this.
    func bootstrapLogging() {
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (verbose ? .info : .warning)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    var logger: Logger { Logger(label: "zuora-sync") }

    /// The transport for every base URL kind: fixture:// in process, https and loopback http through libcurl.
    func makeTransport(http: HTTPSettings) -> any HTTPTransport {
        TransportRouter(network: CurlTransport(settings: http), fixtures: FixtureTransport(fixtures: fixturesDirectory))
    }
}

/// Maps errors to the documented exit codes: 64 for usage and configuration, 1 otherwise.
enum ExitCodes {
    static let customerFailed: Int32 = 1
    static let usage: Int32 = 64

    static func fail(_ error: any Error) -> ExitCode {
        let message = String(describing: error)
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        switch error {
        case is ConfigurationError, is ValidationError, is FaultPlan.ParseError: return ExitCode(usage)
        case let file as FileError where file.isUsageError: return ExitCode(usage)
        default: return ExitCode(customerFailed)
        }
    }
}
