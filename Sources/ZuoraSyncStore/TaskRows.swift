import Foundation
import ZuoraSyncCore

/// A task row as extracted from an export.
public struct ExtractedTask: Sendable, Equatable {
    public var zuoraTaskID: Int64
    /// The export's `task_id`: the *parent* task (null for the first task).
    public var parentTaskID: Int64?
    public var name: String?
    public var actionType: String?
    public var callType: String?
    public var object: String?
    public var objectID: String?
    public var priority: String?
    public var concurrentLimit: Int64?
    public var tags: String?
    public var parameters: String?
    public var assignment: String?
    public var css: String?
    public var zuoraOrgID: String?
    public var subprocessID: String?

    public init(zuoraTaskID: Int64, parentTaskID: Int64?, name: String?, actionType: String?, callType: String?, object: String?,
                objectID: String?, priority: String?, concurrentLimit: Int64?, tags: String?, parameters: String?, assignment: String?,
                css: String?, zuoraOrgID: String?, subprocessID: String?) {
        self.zuoraTaskID = zuoraTaskID
        self.parentTaskID = parentTaskID
        self.name = name
        self.actionType = actionType
        self.callType = callType
        self.object = object
        self.objectID = objectID
        self.priority = priority
        self.concurrentLimit = concurrentLimit
        self.tags = tags
        self.parameters = parameters
        self.assignment = assignment
        self.css = css
        self.zuoraOrgID = zuoraOrgID
        self.subprocessID = subprocessID
    }
}

/// A linkage row as extracted from an export.
public struct ExtractedLinkage: Sendable, Equatable {
    public var linkageType: String
    public var sourceWorkflowID: Int64?
    public var sourceTaskID: Int64?
    public var targetTaskID: Int64?

    public init(linkageType: String, sourceWorkflowID: Int64?, sourceTaskID: Int64?, targetTaskID: Int64?) {
        self.linkageType = linkageType
        self.sourceWorkflowID = sourceWorkflowID
        self.sourceTaskID = sourceTaskID
        self.targetTaskID = targetTaskID
    }
}

/// The tasks and linkages of one export, and what had to be skipped.
public struct TaskExtraction: Sendable {
    public var tasks: [ExtractedTask] = []
    public var linkages: [ExtractedLinkage] = []
    public var warnings: [String] = []
    public init() {}
}

