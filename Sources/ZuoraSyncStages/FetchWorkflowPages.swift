import Foundation
import ZuoraAPI
import ZuoraSyncCore
import ZuoraSyncEngine

/// Pages through `GET /workflows` and writes each raw page (`page-0001.json`, ...) and the listing.
/// Each page's newly listed workflows are published as they arrive, for download-exports to start on.
public struct FetchWorkflowPages: StageKind {
    /// The workflows a page listed for the first time.
    public typealias Partial = [ListedWorkflow]

    public static let name = "fetch-workflow-pages"
    public static var inputs: [any StageKind.Type] { [OAuthToken.self] }

    public struct Settings: StageSettings {
        /// `page_size`: workflows per list call. Default 50, 1...50 (Zuora's maximum).
        public var pageSize: Int
        /// `max_pages`: safety cap on list calls. Default 1000.
        public var maxPages: Int

        public init(reading settings: some SettingsReader) throws {
            pageSize = try settings.int("page_size", default: 50, range: 1...50)
            maxPages = try settings.int("max_pages", default: 1000, range: 1...100_000)
        }
    }

    /// `result.json`: the listing, and whether it is proven complete.
    public struct Result: Sendable, Codable {
        public var workflows: [ListedWorkflow]
        /// True only when the last page said so (no `next_page`, or empty `data`), no page looked
        /// shifted, and the page cap was not reached. Cleanup runs only on a complete listing.
        public var isComplete: Bool
        public var incompleteReason: String?
        public var pages: Int
        public var skippedWithoutID: Int
        public var duplicates: Int
    }

    /// `page-0001.json`, ...: the raw body of each list call.
    public static func pageFileName(_ page: Int) -> String {
        let digits = String(page)
        return "page-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits + ".json"
    }

    public init() {}

    public func run(_ context: StageContext, settings: Settings) async throws -> StageOutput<Result> {
        let client = try context.services.client()
        let pageSize = settings.pageSize
        var workflows: [Int64: ListedWorkflow] = [:]
        var warnings: [String] = []
        var skipped = 0, duplicates = 0, page = 0
        var isComplete = false
        var incompleteReason: String?
        // A page that a run before received byte for byte is a link to the same file, not a copy.
        let sharedFiles = SharedRunFiles(dataDirectory: context.services.dataDirectory.root)

        while page < settings.maxPages {
            page += 1
            let response = try await client.listWorkflows(page: page, pageLength: pageSize)
            // Not fsynced one by one: the stage flushes once before it can commit.
            try sharedFiles.write(response.body, to: context.file(Self.pageFileName(page)), durable: false)
            let body: JSONValue
            do {
                let parsed = try JSONValue.parseCountingInvalidUTF8(response.body)
                body = parsed.value
                if parsed.invalidUTF8Strings > 0 {
                    warnings.append("page \(page): \(parsed.invalidUTF8Strings) text value(s) were not valid UTF-8; the bad bytes were replaced with U+FFFD")
                }
            } catch {
                throw StageFailure("list page \(page) is not valid JSON (\(error)); nothing was changed, the run can be resumed", isRetryable: true)
            }
            guard let data = body["data"]?.arrayValue else {
                throw StageFailure("list page \(page) has no \"data\" list; nothing was changed, the run can be resumed", isRetryable: true)
            }
            var fresh: [ListedWorkflow] = []
            for (index, item) in data.enumerated() {
                guard let workflow = ListedWorkflow(item: item) else {
                    skipped += 1
                    warnings.append("page \(page) item \(index + 1): no valid workflow id, skipped (name: \(item["name"]?.stringValue ?? "?"))")
                    continue
                }
                if ListedWorkflow.hasNUL(item) {
                    warnings.append("page \(page) workflow \(workflow.id): a NUL character in its name or description was replaced with U+FFFD")
                }
                if workflows[workflow.id] != nil {
                    duplicates += 1
                } else {
                    workflows[workflow.id] = workflow
                    fresh.append(workflow)
                }
            }
            await context.publish(fresh, from: Self.self)
            context.progress(page, of: nil, unit: "pages")
            let next = body["pagination"]?["next_page"]?.stringValue
            if data.isEmpty || next == nil || next!.isEmpty {
                isComplete = true
                break
            }
            if data.count < pageSize && incompleteReason == nil {
                incompleteReason = "page \(page) returned \(data.count) of \(pageSize) workflows but announced a next page: the listing shifted while paging"
            }
        }
        context.progress(page, of: page, unit: "pages")   // the last count always reaches the display
        if page > 0 { try AtomicFile.flushFileSystem(containing: context.directory) }
        if !isComplete {
            incompleteReason = "stopped at the page cap (max_pages \(settings.maxPages)) before the last page"
        }
        if let incompleteReason {
            isComplete = false
            warnings.append("listing incomplete: \(incompleteReason); cleanup will not delete anything")
        }
        let listing = Result(workflows: workflows.values.sorted { $0.id < $1.id }, isComplete: isComplete,
                             incompleteReason: incompleteReason, pages: page, skippedWithoutID: skipped, duplicates: duplicates)
        return StageOutput(listing, warnings: warnings)
    }

    public static func counts(of result: Result) -> [String: Int] {
        ["listed": result.workflows.count, "pages": result.pages, "skipped_without_id": result.skippedWithoutID,
         "duplicates": result.duplicates, "complete": result.isComplete ? 1 : 0]
    }
}
