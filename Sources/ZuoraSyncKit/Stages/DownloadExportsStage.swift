import Foundation

/// `result.json` of download-exports.
public struct DownloadExportsResult: Sendable, Codable {
    public struct Downloaded: Sendable, Codable {
        public var id: Int64
        public var sha256: String
        public var bytes: Int
    }
    public struct Failed: Sendable, Codable {
        public var id: Int64
        public var name: String
        public var status: Int?
        public var message: String
    }
    /// Whether every listed workflow was downloaded (a full pass), changed or not.
    public var isFullPass: Bool
    public var downloaded: [Downloaded]
    /// Listed workflows whose `updatedAt` and version match a stored good export: not downloaded.
    public var unchanged: [Int64]
    public var failed: [Failed]
}

/// Downloads `GET /workflows/{id}/export` for each listed workflow that changed (or all of them on a
/// full pass), with bounded concurrency, into `exports/<id>.json` in canonical form. A workflow
/// whose export fails (4xx, invalid JSON, missing fields) is a warning: the others go on and the
/// stored copy stays. Exports already on disk from an interrupted attempt are not downloaded again.
public struct DownloadExportsStage: PipelineStage {
    public init() {}

    enum Outcome: Sendable {
        case downloaded(DownloadExportsResult.Downloaded)
        case failed(DownloadExportsResult.Failed)
    }

    public func run(_ context: StageContext) async throws -> StageReport {
        let listing = try context.result(of: .fetchWorkflowPages, as: WorkflowListing.self)
        let store = context.services.store
        let stored = try store.storedWorkflows(customerSlug: context.customer.id)
        let isFullPass = try decideFullPass(context)
        var unchanged: [Int64] = []
        var targets: [ListedWorkflow] = []
        for workflow in listing.workflows {
            if !isFullPass, let existing = stored[workflow.id], existing.hasGoodExport, workflow.updatedAt != nil,
               existing.updatedOn == workflow.updatedAt, existing.version == workflow.activeVersion {
                unchanged.append(workflow.id)
            } else {
                targets.append(workflow)
            }
        }
        let exportsDirectory = context.directory.appendingPathComponent("exports", isDirectory: true)
        try FileManager.default.createDirectory(at: exportsDirectory, withIntermediateDirectories: true)
        let client = try context.services.client()
        let concurrency = context.definition.concurrency

        var outcomes: [Outcome] = []
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var iterator = targets.makeIterator()
            func addNext() -> Bool {
                guard let workflow = iterator.next() else { return false }
                group.addTask { try await download(workflow, client: client, into: exportsDirectory) }
                return true
            }
            for _ in 0..<concurrency where !addNext() { break }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                _ = addNext()
            }
        }

        var downloaded: [DownloadExportsResult.Downloaded] = []
        var failed: [DownloadExportsResult.Failed] = []
        for outcome in outcomes {
            switch outcome {
            case .downloaded(let item): downloaded.append(item)
            case .failed(let item): failed.append(item)
            }
        }
        downloaded.sort { $0.id < $1.id }
        failed.sort { $0.id < $1.id }
        // Exports were written without a per-file fsync; one flush before the stage can commit.
        if !downloaded.isEmpty { try AtomicFile.flushFileSystem(containing: exportsDirectory) }
        let result = DownloadExportsResult(isFullPass: isFullPass, downloaded: downloaded, unchanged: unchanged.sorted(), failed: failed)
        try context.writeResult(result)
        let warnings = failed.map { item in
            "workflow \(item.id) (\(item.name)): export failed: \(item.status.map { "HTTP \($0) " } ?? "")\(item.message); the stored copy is kept"
        }
        return StageReport(counts: ["downloaded": downloaded.count, "unchanged": unchanged.count, "failed": failed.count,
                                    "full_pass": isFullPass ? 1 : 0], warnings: warnings)
    }

    private func decideFullPass(_ context: StageContext) throws -> Bool {
        if context.options.full || context.definition.fullEveryHours == 0 { return true }
        guard let last = try context.services.store.lastFullExport(slug: context.customer.id) else { return true }
        return context.runStartedAt.timeIntervalSince(last) >= Double(context.definition.fullEveryHours) * 3600
    }

    private func download(_ workflow: ListedWorkflow, client: ZuoraClient, into directory: URL) async throws -> Outcome {
        let file = directory.appendingPathComponent(SafeIdentifier.workflowFileName(workflow.id))
        // From an interrupted attempt: reused only if it is a whole, valid export.
        if let existing = try? Data(contentsOf: file), let document = try? JSONValue.parse(existing), TaskExtractor.problem(with: document) == nil {
            return .downloaded(.init(id: workflow.id, sha256: Digest.sha256Hex(existing), bytes: existing.count))
        }
        let response: HTTPResponse
        do {
            response = try await client.exportWorkflow(id: workflow.id)
        } catch let error as ZuoraError where error.kind == .httpStatus {
            return .failed(.init(id: workflow.id, name: workflow.name, status: error.status, message: error.message))
        }
        let document: JSONValue
        do { document = try JSONValue.parse(response.body) } catch {
            return .failed(.init(id: workflow.id, name: workflow.name, status: nil, message: "\(error)"))
        }
        if let problem = TaskExtractor.problem(with: document) {
            return .failed(.init(id: workflow.id, name: workflow.name, status: nil, message: problem))
        }
        let canonical = document.canonicalData()
        try AtomicFile.write(canonical, to: file, durable: false)
        return .downloaded(.init(id: workflow.id, sha256: Digest.sha256Hex(canonical), bytes: canonical.count))
    }
}
