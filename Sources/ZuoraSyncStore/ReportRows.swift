import Foundation
import ZuoraSyncCore

/// A customer as the report shows it.
public struct CustomerOverview: Sendable, Equatable {
    public var slug: String
    public var name: String
    public var lastSyncedAt: String?
    public var lastResult: String?
    public var workflows: Int
    public var tasks: Int
}

/// A workflow row as the report lists it: listing fields, task count, and the action types,
/// priorities of its tasks (for the page's filters).
public struct WorkflowOverview: Sendable, Equatable {
    public var zuoraID: Int64
    public var name: String
    public var description: String?
    public var status: String?
    public var version: String?
    public var type: String?
    public var updatedOn: String?
    public var exportSHA256: String?
    public var taskCount: Int
    public var actionTypes: [String]
    public var priorities: [String]
}

/// A task as the report shows it.
public struct TaskOverview: Sendable, Equatable {
    public var zuoraTaskID: Int64
    public var parentTaskID: Int64?
    public var name: String?
    public var actionType: String?
    public var object: String?
    public var priority: String?
}

/// A linkage between two tasks of a workflow.
public struct LinkageOverview: Sendable, Equatable {
    public var linkageType: String
    public var sourceTaskID: Int64?
    public var targetTaskID: Int64?
}
