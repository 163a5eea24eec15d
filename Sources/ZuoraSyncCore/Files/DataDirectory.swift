import Foundation

/// The layout of the data directory. Nothing is written outside it.
public struct DataDirectory: Sendable {
    public let root: URL

    public init(_ root: URL) {
        self.root = root.standardizedFileURL
        PathSafety.protect(self.root)
    }
    public init(path: String) { self.init(URL(fileURLWithPath: path, isDirectory: true)) }

    public var runs: URL { root.appendingPathComponent("runs", isDirectory: true) }
    public var storeFile: URL { root.appendingPathComponent("store.sqlite") }
    public var trash: URL { root.appendingPathComponent("trash", isDirectory: true) }
    public var jobs: URL { root.appendingPathComponent("jobs", isDirectory: true) }
    public var locks: URL { root.appendingPathComponent("locks", isDirectory: true) }
    /// `metrics/zuora_sync.prom`: Prometheus text format for node_exporter's textfile collector.
    public var metricsFile: URL { root.appendingPathComponent("metrics", isDirectory: true).appendingPathComponent("zuora_sync.prom") }
    /// `report/`: the static HTML report.
    public var report: URL { root.appendingPathComponent("report", isDirectory: true) }

    public func run(_ id: String) -> URL { runs.appendingPathComponent(id, isDirectory: true) }
    public func manifest(_ id: String) -> URL { run(id).appendingPathComponent("run.json") }
    /// `runs/<run>/events.jsonl`: every event of the run, one JSON object per line.
    public func events(_ id: String) -> URL { run(id).appendingPathComponent("events.jsonl") }

    /// `runs/<run>/<customer>/state.json`: the customer's workflows when the run finished.
    public func customerState(run: String, customer: String) -> URL {
        self.run(run).appendingPathComponent(customer, isDirectory: true).appendingPathComponent("state.json")
    }

    /// Stage directory `runs/<run>/<customer>/<NN>-<stage-id>`.
    public func stage(run: String, customer: String, index: Int, stageID: String) -> URL {
        self.run(run).appendingPathComponent(customer, isDirectory: true)
            .appendingPathComponent(index < 9 ? "0\(index + 1)-\(stageID)" : "\(index + 1)-\(stageID)", isDirectory: true)
    }

    /// A new, sortable run id: `20261129T052000Z-1a2b3c`.
    public static func newRunID(at date: Date) -> String { newRunID(at: date, random: .system) }

    /// A new run id with randomness from `random`.
    public static func newRunID(at date: Date, random: RandomSource) -> String {
        let stamp = Timestamp.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let compact = String(stamp.prefix(15)) + "Z"
        return compact + "-" + random.hex(digits: 6)
    }
}
