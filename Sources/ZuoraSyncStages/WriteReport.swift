import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncReport

/// Writes the static HTML report (`report/index.html` and the pages beside it) from the store and
/// the run files, for pipelines that add it at the end. Each customer's part of the run refreshes
/// its own customer and workflow pages and the shared pages (overview, jobs, runs); writes are
/// atomic, and one report is written at a time in a process. A dry run writes nothing.
public struct WriteReport: StageKind {
    public static let name = "write-report"
    public static var inputs: [any StageKind.Type] { [SaveWorkflows.self] }

    public struct Settings: StageSettings {
        /// `out`: the site's folder, relative to the data directory. Default `report`.
        public var out: String

        public init(reading settings: some SettingsReader) throws {
            out = try settings.string("out", default: "report") ?? "report"
            if out.hasPrefix("/") || out.split(separator: "/").contains("..") {
                throw settings.invalid("out", "'\(out)' must be a folder inside the data directory (no leading / and no ..), e.g. report")
            }
        }
    }

    /// `result.json`.
    public struct Result: Sendable, Codable {
        public var pages: Int
        public var workflows: Int
        /// Relative to the data directory; nil in a dry run.
        public var index: String?
    }

    /// One report at a time in this process (customers run concurrently).
    private static let gate = NSLock()

    public init() {}

    public func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result> {
        if context.options.dryRun { return StageOutput(Result(pages: 0, workflows: 0, index: nil), status: .dryRun) }
        let data = context.services.dataDirectory
        let writer = ReportWriter(dataDirectory: data, output: data.root.appendingPathComponent(settings.out, isDirectory: true),
                                  clock: context.services.clock, environment: ProcessEnvironment.current())
        let summary = try Self.gate.withLock { try writer.write(store: context.services.store, runID: context.runID, onlyCustomers: [context.customer.id]) }
        return StageOutput(Result(pages: summary.pages, workflows: summary.workflows, index: "\(settings.out)/index.html"))
    }

    public static func counts(of result: Result) -> [String: Int] { ["pages": result.pages, "workflows": result.workflows] }
}
