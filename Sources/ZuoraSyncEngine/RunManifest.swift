import Foundation
import ZuoraSyncCore

/// Where a run or a customer stands.
public enum RunStatus: String, Sendable, Codable {
    case pending, running, succeeded, failed
    /// Stopped by a signal, or its process is gone: `resume` finishes it.
    case interrupted
}

/// `runs/<run-id>/run.json`: what was run, for whom, with which options, and how it ended.
public struct RunManifest: Sendable, Codable, VersionedFile {
    /// 2: stages hold only their own settings; statuses include `interrupted`.
    public static let currentFormatVersion = 2

    public var formatVersion = RunManifest.currentFormatVersion
    public var id: String
    /// Position among the data directory's runs (1, 2, ...): orders runs that started in the same second.
    public var sequence: Int
    public var pipelineName: String
    public var pipelinePath: String
    /// The pipeline as it was when the run started; a resume uses this copy.
    public var pipeline: PipelineDefinition
    public var customers: [String]
    public var options: RunOptions
    public var status: RunStatus
    public var startedAt: Date
    public var finishedAt: Date?
    /// 1 for the first pass, +1 for each resume.
    public var passes: Int
    /// The process working on the run (pid and host), while it runs.
    public var process: RunProcess?
    public var results: [CustomerResult]
    /// The run directory it was read from (not stored): lets `observedStatus` ask the run lock.
    public var directory: URL?

    private enum CodingKeys: String, CodingKey {
        case formatVersion, id, sequence, pipelineName, pipelinePath, pipeline, customers, options, status, startedAt, finishedAt,
             passes, process, results
    }

    public init(id: String, sequence: Int, pipelineName: String, pipelinePath: String, pipeline: PipelineDefinition,
                customers: [String], options: RunOptions, status: RunStatus, startedAt: Date, finishedAt: Date? = nil,
                passes: Int = 1, process: RunProcess? = nil, results: [CustomerResult]) {
        self.id = id
        self.sequence = sequence
        self.pipelineName = pipelineName
        self.pipelinePath = pipelinePath
        self.pipeline = pipeline
        self.customers = customers
        self.options = options
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.passes = passes
        self.process = process
        self.results = results
    }

    public func result(for customer: String) -> CustomerResult? { results.first { $0.customer == customer } }

    /// The status a person should see: a `running` run whose process is gone was interrupted.
    /// Read from a data directory, the run lock decides (on any host); otherwise the recorded pid.
    public func observedStatus(isAlive: (RunProcess) -> Bool = RunProcess.isAlive) -> RunStatus {
        guard status == .running else { return status }
        if let directory { return RunLock.isHeld(runDirectory: directory) ? .running : .interrupted }
        guard let process else { return .interrupted }
        return isAlive(process) ? .running : .interrupted
    }
}

/// The process that works on a run.
public struct RunProcess: Sendable, Codable, Equatable {
    public var pid: Int32
    public var host: String

    public init(pid: Int32, host: String) {
        self.pid = pid
        self.host = host
    }

    /// This process.
    public static func current() -> RunProcess { RunProcess(pid: getpid(), host: ProcessEnvironment.hostName()) }

    /// Whether the process still runs (on another host it is assumed to).
    public static func isAlive(_ process: RunProcess) -> Bool {
        guard process.host == ProcessEnvironment.hostName() else { return true }
        return kill(process.pid, 0) == 0 || errno == EPERM
    }
}
