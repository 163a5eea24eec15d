import Foundation
import ZuoraSyncCore

/// One difference in a value, by path (`parameters.subject`, `callout_trigger`).
public struct FieldChange: Sendable, Codable, Equatable {
    public var path: String
    public var before: JSONValue?
    public var after: JSONValue?
}

/// A task that changed between two exports of a workflow.
public struct TaskChange: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var changes: [FieldChange]
}

/// A task, named for people.
public struct TaskReference: Sendable, Codable, Equatable {
    public var id: Int64
    public var name: String
    public var actionType: String
}

/// What changed in one workflow between two states.
public struct WorkflowChange: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case added, removed, changed }
    public var id: Int64
    public var name: String
    public var kind: Kind
    public var renamedFrom: String?
    public var changes: [FieldChange] = []
    public var tasksAdded: [TaskReference] = []
    public var tasksRemoved: [TaskReference] = []
    public var tasksChanged: [TaskChange] = []
    public var linkagesAdded: [String] = []
    public var linkagesRemoved: [String] = []

    public var isEmpty: Bool {
        kind == .changed && renamedFrom == nil && changes.isEmpty && tasksAdded.isEmpty && tasksRemoved.isEmpty
            && tasksChanged.isEmpty && linkagesAdded.isEmpty && linkagesRemoved.isEmpty
    }
}

/// Compares workflow exports semantically: workflow settings, tasks (by id, else by name and
/// action type) with the fields that changed, and linkages. Fields that change without meaning
/// (canvas positions, version ids, run state) are ignored.
public enum WorkflowDiff {
    /// One side of a workflow's comparison: listing fields and the export, when there is a good one.
    public struct Version: Sendable {
        public var name: String
        public var status: String?
        public var version: String?
        public var export: JSONValue?
        public init(name: String, status: String? = nil, version: String? = nil, export: JSONValue?) {
            self.name = name
            self.status = status
            self.version = version
            self.export = export
        }
    }

    /// Keys that change without a user's edit, in both spellings Zuora uses (exports seen in the
    /// wild are snake_case; Zuora's generated SDK models the workflow object in camelCase).
    static let volatileWorkflowKeys: Set<String> = [
        "id", "css", "status",
        "started_at", "finished_at", "task_summary", "original_workflow_id", "created_at", "updated_at",
        "startedAt", "finishedAt", "taskSummary", "originalWorkflowId", "createdAt", "updatedAt",
    ]
    static let volatileTaskKeys: Set<String> = ["id", "css", "status", "error", "error_class", "error_details", "process_id",
                                                "original_task_id", "original_workflow_id", "task_id",
                                                "errorClass", "errorDetails", "processId", "originalTaskId", "originalWorkflowId", "taskId",
                                                "workflow_id", "workflowId"]

    /// Compares two states: workflow id → (name, export or nil when no good export).
    public static func compare(before: [Int64: Version], after: [Int64: Version]) -> [WorkflowChange] {
        var result: [WorkflowChange] = []
        for id in Set(before.keys).union(after.keys).sorted() {
            switch (before[id], after[id]) {
            case (nil, let new?):
                result.append(WorkflowChange(id: id, name: new.name, kind: .added))
            case (let old?, nil):
                result.append(WorkflowChange(id: id, name: old.name, kind: .removed))
            case (let old?, let new?):
                var change = WorkflowChange(id: id, name: new.name, kind: .changed)
                if old.name != new.name { change.renamedFrom = old.name }
                if let oldExport = old.export, let newExport = new.export {
                    compareExports(oldExport, newExport, into: &change)
                }
                // Listing fields that the export does not carry.
                if old.status != new.status {
                    change.changes.insert(FieldChange(path: "status", before: old.status.map(JSONValue.string), after: new.status.map(JSONValue.string)), at: 0)
                }
                if !change.isEmpty { result.append(change) }
            default:
                break
            }
        }
        return result
    }

    static func compareExports(_ old: JSONValue, _ new: JSONValue, into change: inout WorkflowChange) {
        change.changes = fieldChanges(old["workflow"] ?? .null, new["workflow"] ?? .null, path: "", ignoring: volatileWorkflowKeys)
            .filter { $0.path != "name" }
        // Unknown top-level keys of newer tenants are compared too.
        for key in Set(old.objectValue?.keys ?? [:].keys).union(new.objectValue?.keys ?? [:].keys).sorted()
            where !["workflow", "tasks", "linkages"].contains(key) {
            change.changes += fieldChanges(old[key] ?? .null, new[key] ?? .null, path: key, ignoring: [])
        }
        let oldTasks = tasks(of: old), newTasks = tasks(of: new)
        var unmatchedNew = newTasks
        var pairs: [(JSONValue, JSONValue)] = []
        var removed: [JSONValue] = []
        for task in oldTasks {
            if let index = unmatchedNew.firstIndex(where: { $0["id"] == task["id"] })
                ?? unmatchedNew.firstIndex(where: { $0["name"] == task["name"] && $0["action_type"] == task["action_type"] }) {
                pairs.append((task, unmatchedNew.remove(at: index)))
            } else {
                removed.append(task)
            }
        }
        change.tasksRemoved = removed.map(reference)
        change.tasksAdded = unmatchedNew.map(reference)
        for (oldTask, newTask) in pairs {
            let fields = fieldChanges(oldTask, newTask, path: "", ignoring: volatileTaskKeys)
            if !fields.isEmpty {
                change.tasksChanged.append(TaskChange(id: newTask["id"]?.intValue ?? 0, name: newTask["name"]?.stringValue ?? "", changes: fields))
            }
        }
        let oldLinks = Set(linkages(of: old)), newLinks = Set(linkages(of: new))
        change.linkagesAdded = newLinks.subtracting(oldLinks).sorted()
        change.linkagesRemoved = oldLinks.subtracting(newLinks).sorted()
    }

    static func tasks(of export: JSONValue) -> [JSONValue] { export["tasks"]?.arrayValue ?? [] }

    static func reference(_ task: JSONValue) -> TaskReference {
        TaskReference(id: task["id"]?.intValue ?? 0, name: task["name"]?.stringValue ?? "", actionType: task["action_type"]?.stringValue ?? "")
    }

    /// Linkages named by task names, so that they compare across versions whose task ids differ.
    static func linkages(of export: JSONValue) -> [String] {
        let names = Dictionary(tasks(of: export).compactMap { task in task["id"]?.intValue.map { ($0, task["name"]?.stringValue ?? "#\($0)") } },
                               uniquingKeysWith: { first, _ in first })
        return (export["linkages"]?.arrayValue ?? []).map { link in
            let source = link["source_task_id"]?.intValue.map { names[$0] ?? "#\($0)" } ?? "(start)"
            let target = link["target_task_id"]?.intValue.map { names[$0] ?? "#\($0)" } ?? "(end)"
            return "\(link["linkage_type"]?.stringValue ?? "?"): \(source) → \(target)"
        }
    }

    static func fieldChanges(_ old: JSONValue, _ new: JSONValue, path: String, ignoring: Set<String>) -> [FieldChange] {
        if old == new { return [] }
        if case .object(let a) = old, case .object(let b) = new {
            return Set(a.keys).union(b.keys).filter { !ignoring.contains($0) }.sorted().flatMap { key in
                fieldChanges(a[key] ?? .null, b[key] ?? .null, path: path.isEmpty ? key : "\(path).\(key)", ignoring: [])
            }
        }
        return [FieldChange(path: path, before: old.isNull ? nil : old, after: new.isNull ? nil : new)]
    }

    /// Text for people, one block per workflow.
    public static func render(_ changes: [WorkflowChange], title: String) -> String {
        guard !changes.isEmpty else { return "\(title): no changes\n" }
        func show(_ value: JSONValue?) -> String {
            guard let value else { return "∅" }
            let text = value.stringValue.map { "\"\($0)\"" } ?? value.compactCanonicalString()
            return text.count > 80 ? String(text.prefix(77)) + "…" : text
        }
        var text = "\(title): \(changes.count) workflow(s) changed\n"
        for change in changes {
            switch change.kind {
            case .added: text += "\n+ \(change.id) \(change.name) (added)\n"
            case .removed: text += "\n- \(change.id) \(change.name) (removed)\n"
            case .changed:
                text += "\n~ \(change.id) \(change.name)"
                text += change.renamedFrom.map { " (renamed from \"\($0)\")" } ?? ""
                text += "\n"
            }
            for field in change.changes { text += "    \(field.path): \(show(field.before)) → \(show(field.after))\n" }
            for task in change.tasksAdded { text += "    + task \(task.id) \(task.name) [\(task.actionType)]\n" }
            for task in change.tasksRemoved { text += "    - task \(task.id) \(task.name) [\(task.actionType)]\n" }
            for task in change.tasksChanged {
                text += "    ~ task \(task.id) \(task.name)\n"
                for field in task.changes { text += "        \(field.path): \(show(field.before)) → \(show(field.after))\n" }
            }
            for link in change.linkagesAdded { text += "    + linkage \(link)\n" }
            for link in change.linkagesRemoved { text += "    - linkage \(link)\n" }
        }
        return text
    }
}
