import Foundation
import ZuoraSyncCore
import ZuoraSyncStore

/// Turns an export document into task and linkage rows. Pure: no I/O.
public enum TaskExtractor {
    /// NUL cannot be stored in PostgreSQL's text or jsonb: on both backends a task column holds
    /// U+FFFD in its place (the stored export keeps the original, escaped).
    static func withoutNUL(_ text: String) -> String {
        text.replacingNUL
    }

    static func withoutNUL(_ value: JSONValue) -> JSONValue {
        containsNUL(value) ? replacingNUL(value) : value
    }

    private static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return text.containsNUL
        case .array(let items): return items.contains(where: containsNUL)
        case .object(let members): return members.contains { $0.key.containsNUL || containsNUL($0.value) }
        default: return false
        }
    }

    private static func replacingNUL(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(withoutNUL(text))
        case .array(let items): return .array(items.map(replacingNUL))
        case .object(let members):
            // Keys that differ only where one held NUL and the other U+FFFD become one: the member
            // whose original key sorts last wins, the same on every run.
            let ordered = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(Dictionary(ordered.map { (withoutNUL($0.key), replacingNUL($0.value)) }, uniquingKeysWith: { _, last in last }))
        default: return value
        }
    }

    public static func extract(from export: JSONValue) -> TaskExtraction {
        var result = TaskExtraction()
        var seen = Set<Int64>()
        for (index, task) in (export["tasks"]?.arrayValue ?? []).enumerated() {
            guard let id = task["id"]?.intValue else {
                result.warnings.append("task #\(index + 1) has no integer id; skipped")
                continue
            }
            guard seen.insert(id).inserted else {
                result.warnings.append("task \(id) appears twice; the first is kept")
                continue
            }
            func text(_ key: String) -> String? {
                guard let value = task[key], !value.isNull else { return nil }
                return withoutNUL(value.stringValue ?? value.intValue.map(String.init) ?? value.compactCanonicalString())
            }
            func json(_ key: String) -> String? {
                guard let value = task[key], !value.isNull else { return nil }
                return withoutNUL(value).compactCanonicalString()
            }
            result.tasks.append(ExtractedTask(
                zuoraTaskID: id, parentTaskID: task["task_id"]?.intValue, name: text("name"), actionType: text("action_type"),
                callType: text("call_type"), object: text("object"), objectID: text("object_id"), priority: text("priority"),
                concurrentLimit: task["concurrent_limit"]?.intValue, tags: json("tags"), parameters: json("parameters"),
                assignment: json("assignment"), css: json("css"), zuoraOrgID: text("zuora_org_id"), subprocessID: text("subprocess_id")))
        }
        for (index, linkage) in (export["linkages"]?.arrayValue ?? []).enumerated() {
            guard let type = linkage["linkage_type"]?.stringValue else {
                result.warnings.append("linkage #\(index + 1) has no linkage_type; skipped")
                continue
            }
            result.linkages.append(ExtractedLinkage(
                linkageType: type, sourceWorkflowID: linkage["source_workflow_id"]?.intValue,
                sourceTaskID: linkage["source_task_id"]?.intValue, targetTaskID: linkage["target_task_id"]?.intValue))
        }
        return result
    }

    /// Why an export cannot be used, or nil when it has the documented shape.
    public static func problem(with export: JSONValue) -> String? {
        guard export.objectValue != nil else { return "the export is not a JSON object" }
        guard export["workflow"]?.objectValue != nil else { return "the export has no \"workflow\" object" }
        guard export["tasks"]?.arrayValue != nil else { return "the export has no \"tasks\" list" }
        if let linkages = export["linkages"], linkages.arrayValue == nil, !linkages.isNull { return "\"linkages\" is not a list" }
        return nil
    }
}
