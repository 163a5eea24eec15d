import Foundation

/// `result.json` of fetch-workflow-pages: the listing, and whether it is proven complete.
public struct WorkflowListing: Sendable, Codable {
    public var workflows: [ListedWorkflow]
    /// True only when the last page said so (no `next_page`, or empty `data`), no page looked
    /// shifted, and the page cap was not reached. Cleanup runs only on a complete listing.
    public var isComplete: Bool
    public var incompleteReason: String?
    public var pages: Int
    public var skippedWithoutID: Int
    public var duplicates: Int
}

/// Pages through `GET /workflows` and writes each raw page (`page-0001.json`, ...) and the listing.
public struct FetchWorkflowPagesStage: PipelineStage {
    public init() {}

    public func run(_ context: StageContext) async throws -> StageReport {
        let client = try context.services.client()
        let pageSize = context.definition.pageSize
        var workflows: [Int64: ListedWorkflow] = [:]
        var warnings: [String] = []
        var skipped = 0, duplicates = 0, page = 0
        var isComplete = false
        var incompleteReason: String?

        while page < context.definition.maxPages {
            page += 1
            let response = try await client.listWorkflows(page: page, pageLength: pageSize)
            try AtomicFile.write(response.body, to: context.directory.appendingPathComponent(String(format: "page-%04d.json", page)))
            let body: JSONValue
            do { body = try JSONValue.parse(response.body) } catch {
                throw StageFailure("list page \(page) is not valid JSON (\(error)); nothing was changed, the run can be resumed", isRetryable: true)
            }
            guard let data = body["data"]?.arrayValue else {
                throw StageFailure("list page \(page) has no \"data\" list; nothing was changed, the run can be resumed", isRetryable: true)
            }
            for (index, item) in data.enumerated() {
                guard let workflow = ListedWorkflow(item: item) else {
                    skipped += 1
                    warnings.append("page \(page) item \(index + 1): no valid workflow id, skipped (name: \(item["name"]?.stringValue ?? "?"))")
                    continue
                }
                if workflows[workflow.id] != nil {
                    duplicates += 1
                } else {
                    workflows[workflow.id] = workflow
                }
            }
            let next = body["pagination"]?["next_page"]?.stringValue
            if data.isEmpty || next == nil || next!.isEmpty {
                isComplete = true
                break
            }
            if data.count < pageSize && incompleteReason == nil {
                incompleteReason = "page \(page) returned \(data.count) of \(pageSize) workflows but announced a next page: the listing shifted while paging"
            }
        }
        if !isComplete {
            incompleteReason = "stopped at the page cap (max_pages \(context.definition.maxPages)) before the last page"
        }
        if let incompleteReason {
            isComplete = false
            warnings.append("listing incomplete: \(incompleteReason); cleanup will not delete anything")
        }
        let listing = WorkflowListing(workflows: workflows.values.sorted { $0.id < $1.id }, isComplete: isComplete,
                                      incompleteReason: incompleteReason, pages: page, skippedWithoutID: skipped, duplicates: duplicates)
        try context.writeResult(listing)
        return StageReport(counts: ["listed": listing.workflows.count, "pages": page, "skipped_without_id": skipped,
                                    "duplicates": duplicates, "complete": isComplete ? 1 : 0], warnings: warnings)
    }
}
