import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// Rebuilds tasks and linkages from the exports already in the store, without calling Zuora (the
/// original tool's `workflows:sync-tasks`).
public enum TaskRebuilder {
    public struct Result: Sendable, Codable, Equatable {
        public var customer: String
        public var workflow: Int64
        public var tasks: Int
        public var linkages: Int
        public var warnings: [String]
    }

    public static func rebuild(customers: [String], workflow: Int64?, store: Store) throws -> [Result] {
        var results: [Result] = []
        for customer in customers {
            for export in try store.exports(customerSlug: customer, zuoraIDs: workflow.map { [$0] }) {
                let extraction = TaskExtractor.extract(from: try JSONValue.parse(Data(export.text.utf8)))
                try store.replaceTasks(customerSlug: customer, zuoraID: export.zuoraID, extraction: extraction)
                results.append(Result(customer: customer, workflow: export.zuoraID, tasks: extraction.tasks.count,
                                      linkages: extraction.linkages.count, warnings: extraction.warnings))
            }
        }
        return results
    }
}
