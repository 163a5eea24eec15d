import Foundation

/// One workflow created, updated or deleted by a run (or, in a dry run, that would be), read
/// from the customer summary's change lines (`+ 100 Name`, `~ 100 Name`, `- 100 Name`).
public struct RunChange: Sendable, Codable, Equatable {
    /// What happened to the workflow.
    public enum Action: String, Sendable, Codable {
        case created, updated, deleted
    }

    public var customer: String
    public var action: Action
    public var workflowID: Int64
    public var name: String

    public init(customer: String, action: Action, workflowID: Int64, name: String) {
        self.customer = customer
        self.action = action
        self.workflowID = workflowID
        self.name = name
    }

    /// Reads a change line of `CustomerSummary.changes`; nil for a line in another shape.
    public init?(customer: String, line: String) {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let id = Int64(parts[1]) else { return nil }
        switch parts[0] {
        case "+": action = .created
        case "~": action = .updated
        case "-": action = .deleted
        default: return nil
        }
        self.customer = customer
        workflowID = id
        name = parts.count > 2 ? String(parts[2]) : ""
    }

    /// Every change of a run, customer by customer in the run's order.
    public static func all(in manifest: RunManifest, customer: String? = nil) -> [RunChange] {
        all(in: manifest.results.filter { customer == nil || $0.customer == customer })
    }

    /// Every change in these customer results.
    public static func all(in results: [CustomerResult]) -> [RunChange] {
        results.flatMap { result in
            (result.summary?.changes ?? []).compactMap { RunChange(customer: result.customer, line: $0) }
        }
    }
}
