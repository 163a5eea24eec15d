import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine
import ZuoraSyncStore

/// Downloads `GET /workflows/{id}/export` for each listed workflow that changed (or all of them on a
/// full pass), as many at once as the pipeline's `client.concurrency` allows, into
/// `exports/<id>.json` in canonical form. A workflow whose export fails (4xx, invalid JSON, missing
/// fields) is a warning: the others go on and the stored copy stays. Exports already on disk from
/// an interrupted attempt are not downloaded again.
public struct DownloadExports: StageKind {
    /// Exports downloaded (or found whole on disk), as they finish, for save-workflows.
    public typealias Partial = [Streamed]

    /// A good export on disk and the listed workflow it belongs to.
    public struct Streamed: Sendable {
        public var listed: ListedWorkflow
        public var downloaded: Result.Downloaded
    }

    public static let name = "download-exports"
    public static var inputs: [any StageKind.Type] { [FetchWorkflowPages.self] }
    public static var streamsFrom: (any StageKind.Type)? { FetchWorkflowPages.self }

    public struct Settings: StageSettings {
        /// `full_every_hours`: download every export, changed or not, when the last full pass is
        /// older than this. Default 24; 0 means every run.
        public var fullEveryHours: Int

        public init(reading settings: some SettingsReader) throws {
            try settings.moved("concurrency", to: "the pipeline's client.concurrency (it bounds listing and exports together)")
            fullEveryHours = try settings.int("full_every_hours", default: 24, range: 0...8760)
        }
    }

    /// `result.json`.
    public struct Result: Sendable, Codable {
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

    /// The folder of canonical exports inside the stage directory.
    public static let exportsFolder = "exports"

    /// Where the export of a workflow lies in a download-exports stage directory.
    public static func exportFile(_ id: Int64, in stageDirectory: URL) -> URL {
        // One string join: URL path building was several per cent of a full sync.
        URL(fileURLWithPath: "\(stageDirectory.path)/\(exportsFolder)/\(SafeIdentifier.workflowFileName(id))", isDirectory: false)
    }

    enum Outcome: Sendable {
        case downloaded(Result.Downloaded)
        case failed(Result.Failed)
    }

    public init() {}

    public func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result> {
        let store = context.services.store
        let stored = try store.storedWorkflows(customerSlug: context.customer.id)
        let isFullPass = try decideFullPass(context, settings: settings)
        let exportsDirectory = context.directory.appendingPathComponent(Self.exportsFolder, isDirectory: true)
        try FileManager.default.createDirectory(at: exportsDirectory, withIntermediateDirectories: true)
        let client = try context.services.client()
        let objects = ObjectStore(dataDirectory: context.services.dataDirectory.root)
        // Exports are written without an fsync each; this writes them out as they come, so the
        // flush before the commit has little left to do.
        let flusher = BackgroundFlush(containing: exportsDirectory)
        // The client's limiter bounds requests in flight (listing and exports together); this many
        // workers keep it busy. (Twice as many workers, so that a slot serves another request
        // while a worker writes the export it got, were no faster at 20 ms and concurrency 8, and
        // interleaved a workflow's retries with other workflows' requests.)
        let workers = client.limiter.maximum
        let queue = WorkQueue<ListedWorkflow>()
        let tally = Tally()
        var seen = Set<Int64>()
        var unchanged: [Int64] = []
        func enqueue(_ listed: [ListedWorkflow]) async {
            var targets: [ListedWorkflow] = []
            for workflow in listed where seen.insert(workflow.id).inserted {
                if !isFullPass, let existing = stored[workflow.id], existing.hasGoodExport, workflow.updatedAt != nil,
                   existing.updatedOn == workflow.updatedAt, existing.version == workflow.activeVersion {
                    unchanged.append(workflow.id)
                } else {
                    targets.append(workflow)
                }
            }
            guard !targets.isEmpty else { return }
            tally.add(total: targets.count)
            await queue.push(targets)
        }

        // One list for every worker, in the shape the result keeps: not a list of outcomes per
        // worker, joined and then split (three lists as long as the tenant at the end).
        let finished = FinishedExports()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    do {
                        while let workflow = await queue.next() {
                            try Task.checkCancellation()
                            let outcome = try await download(workflow, client: client, into: context.directory, objects: objects,
                                                             flusher: flusher, storedSHA256: stored[workflow.id]?.exportSHA256,
                                                             handOff: context.shared(ExtractionHandOff.self))
                            if case .downloaded(let item) = outcome {
                                await context.publish([Streamed(listed: workflow, downloaded: item)], from: Self.self)
                            }
                            finished.add(outcome)
                            let (done, total) = tally.finishOne()
                            context.progress(done, of: total, unit: "exports")
                        }
                    } catch {
                        await queue.close(discarding: true)   // the other workers stop too
                        throw error
                    }
                }
            }
            do {
                // While the listing runs, each page's workflows start downloading as it arrives; the
                // committed listing then decides (the same workflows, unless a page repeated one).
                if let pages = context.partials(of: FetchWorkflowPages.self) {
                    for try await page in pages { await enqueue(page) }
                }
                await enqueue(try context.result(of: FetchWorkflowPages.self).workflows)
            } catch {
                await queue.close(discarding: true)
                throw error
            }
            await queue.close()
            context.progress(tally.done, of: tally.total, unit: "exports")
            // The first failure ends the group and cancels the other workers' requests in flight
            // (`waitForAll` would let them run to the end, through their retries).
            for try await _ in group {}
        }

        var (downloaded, failed) = finished.take()
        downloaded.sort { $0.id < $1.id }
        failed.sort { $0.id < $1.id }
        // Exports were written without a per-file fsync; one flush before the stage can commit,
        // off the cooperative pool (save-workflows and extract-tasks still run on it).
        try await flusher.finish()
        if !downloaded.isEmpty { try await BlockingWork.run { try AtomicFile.flushFileSystem(containing: exportsDirectory) } }
        let warnings = failed.map { item in
            "workflow \(item.id) (\(item.name)): export failed: \(item.status.map { "HTTP \($0) " } ?? "")\(item.message); the stored copy is kept"
        }
        return StageOutput(Result(isFullPass: isFullPass, downloaded: downloaded, unchanged: unchanged.sorted(), failed: failed),
                           warnings: warnings)
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["downloaded": result.downloaded.count, "unchanged": result.unchanged.count, "failed": result.failed.count,
         "full_pass": result.isFullPass ? 1 : 0]
    }

    public static func summarize(_ result: Result, into summary: inout CustomerSummary) {
        summary.set("exports new/same/failed", "\(result.downloaded.count)/\(result.unchanged.count)/\(result.failed.count)", order: 40)
        summary.refreshedEveryExport = result.isFullPass
    }

    private func decideFullPass(_ context: StageContext, settings: Settings) throws -> Bool {
        if context.options.full || settings.fullEveryHours == 0 { return true }
        guard let last = try context.services.store.lastFullExport(slug: context.customer.id) else { return true }
        return context.runStartedAt.timeIntervalSince(last) >= Double(settings.fullEveryHours) * 3600
    }

    /// `handOff`: where extract-tasks, when it runs alongside, takes the tasks of the parsed export;
    /// not given those of the export already stored (`storedSHA256`), which it does not extract.
    /// `objects`: where an export stored before is found; this run's copy of it is then a link.
    private func download(_ workflow: ListedWorkflow, client: ZuoraClient, into stageDirectory: URL, objects: ObjectStore,
                          flusher: BackgroundFlush, storedSHA256: String?, handOff: ExtractionHandOff?) async throws -> Outcome {
        func handOver(_ document: JSONValue, sha256: String, bytes: Int) {
            guard let handOff, sha256 != storedSHA256 else { return }
            handOff.put(TaskExtractor.extract(from: document), id: workflow.id, sha256: sha256, bytes: bytes)
        }
        let file = Self.exportFile(workflow.id, in: stageDirectory)
        // From an interrupted attempt: reused only if it is a whole, valid export.
        let existing = try? Data(contentsOf: file)
        if let existing, let document = try? JSONValue.parse(existing), TaskExtractor.problem(with: document) == nil {
            let sha256 = Digest.sha256Hex(existing)
            handOver(document, sha256: sha256, bytes: existing.count)
            return .downloaded(.init(id: workflow.id, sha256: sha256, bytes: existing.count))
        }
        let response: Data
        do {
            response = try await client.exportWorkflow(id: workflow.id).body
        } catch let error as ZuoraError where error.kind == .httpStatus || error.kind == .responseTooLarge {
            return .failed(.init(id: workflow.id, name: workflow.name, status: error.status, message: error.message))
        }
        let document: JSONValue
        do { document = try JSONValue.parse(response) } catch {
            return .failed(.init(id: workflow.id, name: workflow.name, status: nil, message: "\(error)"))
        }
        if let problem = TaskExtractor.problem(with: document) {
            return .failed(.init(id: workflow.id, name: workflow.name, status: nil, message: problem))
        }
        let canonical = document.canonicalData()
        let sha256 = Digest.sha256Hex(canonical)
        // An export stored before (a full pass downloads every export, and most are unchanged):
        // this run's copy is a link to the object, not one more copy of the bytes.
        if try !objects.linkCopy(of: canonical, sha256: sha256, at: file, replacing: existing != nil) {
            if existing == nil {
                // Written straight under its name when new: an export cut short by a crash is
                // invalid JSON, which the check above turns into a new download (a temporary name
                // and a rename per export cost 5 % of a full sync).
                try AtomicFile.writeNew(canonical, to: file)
            } else {
                try AtomicFile.write(canonical, to: file, durable: false)
            }
            flusher.wrote(canonical.count)
        }
        handOver(document, sha256: sha256, bytes: canonical.count)
        return .downloaded(.init(id: workflow.id, sha256: sha256, bytes: canonical.count))
    }
}

/// Work handed to a fixed number of workers as it arrives; `next` waits for more until closed.
actor WorkQueue<Item: Sendable> {
    private var items = FIFOQueue<Item>()
    private var waiting: [CheckedContinuation<Item?, Never>] = []
    private var isClosed = false

    func push(_ new: [Item]) {
        guard !isClosed else { return }
        for item in new {
            if waiting.isEmpty { items.append(item) } else { waiting.removeFirst().resume(returning: item) }
        }
    }

    /// No more work comes: waiting workers get nil once the queue is empty. `discarding` drops
    /// what is still queued (a failure: the workers stop).
    func close(discarding: Bool = false) {
        isClosed = true
        if discarding { items.removeAll() }
        for waiter in waiting { waiter.resume(returning: nil) }
        waiting = []
    }

    func next() async -> Item? {
        if let item = items.popFirst() { return item }
        if isClosed { return nil }
        return await withCheckedContinuation { waiting.append($0) }
    }
}

/// What the workers finished, as the result keeps it.
final class FinishedExports: @unchecked Sendable {
    // @unchecked: the lists are only touched under `lock`.
    private let lock = NSLock()
    private var downloaded: [DownloadExports.Result.Downloaded] = []
    private var failed: [DownloadExports.Result.Failed] = []

    func add(_ outcome: DownloadExports.Outcome) {
        lock.withLock {
            switch outcome {
            case .downloaded(let item): downloaded.append(item)
            case .failed(let item): failed.append(item)
            }
        }
    }

    /// The lists, handed over (the collector keeps nothing).
    func take() -> ([DownloadExports.Result.Downloaded], [DownloadExports.Result.Failed]) {
        lock.withLock {
            defer { downloaded = []; failed = [] }
            return (downloaded, failed)
        }
    }
}

/// Exports queued and finished so far (for progress).
final class Tally: @unchecked Sendable {
    // @unchecked: the counters are only touched under `lock`.
    private let lock = NSLock()
    private var queued = 0
    private var finished = 0

    func add(total count: Int) { lock.withLock { queued += count } }
    func finishOne() -> (done: Int, total: Int) { lock.withLock { finished += 1; return (finished, queued) } }
    var done: Int { lock.withLock { finished } }
    var total: Int { lock.withLock { queued } }
}
