import Foundation
import ZuoraSyncCore

/// A queued job as the report shows it, read from `jobs/<state>/<id>.json`. Only the fields the
/// jobs page needs are decoded, so the report does not depend on the queue's code; a file that
/// does not decode is listed as unreadable.
public struct ReportJob: Sendable, Decodable, Equatable {
    public var id: String
    public var customer: String
    public var pipelinePath: String
    public var state: String
    public var attempts: Int
    public var maxAttempts: Int
    public var lastError: String?
    public var runID: String?
    public var updatedAt: Date

    /// Every job, by state folder, newest first; and the files that could not be read.
    static func all(in dataDirectory: DataDirectory) -> (jobs: [ReportJob], unreadable: [String]) {
        var jobs: [ReportJob] = []
        var unreadable: [String] = []
        for state in ["waiting", "running", "failed", "done"] {
            let folder = dataDirectory.jobs.appendingPathComponent(state, isDirectory: true)
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter({ $0.hasSuffix(".json") }) {
                let url = folder.appendingPathComponent(name)
                if let job = try? CanonicalJSON.read(ReportJob.self, from: url) { jobs.append(job) } else { unreadable.append(url.path) }
            }
        }
        return (jobs.sorted { $0.updatedAt > $1.updatedAt }, unreadable.sorted())
    }
}
