import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Writes the demo fixture tenants, byte for byte the same on every machine (seeded generator,
/// canonical JSON): `globex` (123 workflows over three pages, one item without an id, one export
/// that is invalid JSON, one that answers 404), `initech` (six workflows with unicode names),
/// `hooli` (no workflows).
public enum FixtureGenerator {
    public static let actionTypes = [
        "Callout", "Email", "Export", "Iterate", "If", "Query", "Create", "Update", "Delay", "Logic::CustomCode",
        "Logic::JSONTransform", "Billing::BillRun", "Billing::Invoice::Post", "Notification", "Cancel", "Approval",
        "Logic::Case", "Payment::Process", "Files::Upload", "Logic::Lookup", "CustomObject::Query", "Attachment",
    ]

    /// Generates the demo tenants under `directory` (replacing them); returns the files written.
    @discardableResult
    public static func writeDemo(to directory: URL) throws -> Int {
        var files = 0
        for tenant in demoTenants() {
            let root = directory.appendingPathComponent(tenant.name)
            try? FileManager.default.removeItem(at: root)
            try AtomicFile.write(tenant.settings.canonicalData(), to: root.appendingPathComponent("tenant.json"))
            try AtomicFile.write(JSONValue.array(tenant.items).canonicalData(), to: root.appendingPathComponent("workflows.json"))
            files += 2
            for (id, data) in tenant.exports.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(data, to: root.appendingPathComponent("exports/\(id).json"))
                files += 1
            }
        }
        return files
    }

    /// Writes one large tenant `name` with `workflows` workflows and bigger exports (long scripts
    /// in task parameters), for benchmarks.
    @discardableResult
    public static func writeBulk(to directory: URL, name: String, workflows: Int) throws -> Int {
        var random = SplitMix64(seed: UInt64(workflows) &* 0x9E37)
        var taskID: Int64 = 1_000_000
        let root = directory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: root)
        var items: [JSONValue] = []
        let script = String(repeating: "  // generated line of a custom code task, to give exports a realistic size\n", count: 40)
        for index in 0..<workflows {
            let id = Int64(10_000 + index)
            var (item, export) = makeWorkflow(id: id, name: "Bulk workflow \(index + 1)", index: index, random: &random, taskID: &taskID)
            if case .object(var document) = export, case .array(var tasks)? = document["tasks"] {
                tasks = tasks.map { task in
                    guard case .object(var fields) = task, case .object(var parameters)? = fields["parameters"] else { return task }
                    parameters["script"] = .string(script)
                    fields["parameters"] = .object(parameters)
                    return .object(fields)
                }
                document["tasks"] = .array(tasks)
                export = .object(document)
            }
            items.append(item)
            try AtomicFile.write(export.canonicalData(), to: root.appendingPathComponent("exports/\(id).json"))
        }
        let settings = JSONValue.object(["clientID": .string("\(name)-client"), "clientSecret": .string("\(name)-secret"), "tokenTTL": .int(3599)])
        try AtomicFile.write(settings.canonicalData(), to: root.appendingPathComponent("tenant.json"))
        try AtomicFile.write(JSONValue.array(items).canonicalData(), to: root.appendingPathComponent("workflows.json"))
        return workflows + 2
    }

    struct Tenant {
        var name: String
        var settings: JSONValue
        var items: [JSONValue]
        var exports: [Int64: Data]
    }

    static func demoTenants() -> [Tenant] {
        var random = SplitMix64(seed: 0x2026_1129)
        var taskID: Int64 = 1000
        func tenant(_ name: String, names: [String], firstID: Int64, invalidJSON: Set<Int>, missingExport: Set<Int>, itemWithoutID: Int?) -> Tenant {
            var items: [JSONValue] = []
            var exports: [Int64: Data] = [:]
            var id = firstID
            for (index, workflowName) in names.enumerated() {
                let workflow = makeWorkflow(id: id, name: workflowName, index: index, random: &random, taskID: &taskID)
                items.append(workflow.item)
                if invalidJSON.contains(index) {
                    let text = workflow.export.canonicalData()
                    exports[id] = text.prefix(text.count / 2)
                } else if !missingExport.contains(index) {
                    exports[id] = workflow.export.canonicalData()
                }
                if index == itemWithoutID {
                    items.append(.object(["name": .string("Half-created workflow (no id)"), "status": .string("Inactive")]))
                }
                id += Int64(1 + random.next(below: 3))
            }
            let settings = JSONValue.object(["clientID": .string("\(name)-client"), "clientSecret": .string("\(name)-demo-secret"),
                                             "tokenTTL": .int(3599)])
            return Tenant(name: name, settings: settings, items: items, exports: exports)
        }
        let subjects = ["Invoice", "Renewal", "Dunning", "Usage", "Payment", "Subscription", "Credit memo", "Account", "Bill run", "Refund"]
        let verbs = ["sync", "notify", "reminder", "export", "cleanup", "approval", "posting", "review", "migration", "audit"]
        var globexNames: [String] = []
        for index in 0..<123 {
            var name = "\(subjects[index % subjects.count]) \(verbs[(index / subjects.count) % verbs.count]) #\(index + 1)"
            if index % 17 == 5 { name += " — Ünïcödé ✓" }
            globexNames.append(name)
        }
        let initechNames = ["Facturación mensual", "請求書の送信", "Zahlungserinnerung Stufe 2", "TPS report callout",
                            "Renewal notice 🔔", "Проверка подписки"]
        return [
            tenant("globex", names: globexNames, firstID: 100, invalidJSON: [6], missingExport: [12], itemWithoutID: 60),
            tenant("initech", names: initechNames, firstID: 40, invalidJSON: [], missingExport: [], itemWithoutID: nil),
            tenant("hooli", names: [], firstID: 1, invalidJSON: [], missingExport: [], itemWithoutID: nil),
        ]
    }

    static func makeWorkflow(id: Int64, name: String, index: Int, random: inout SplitMix64, taskID: inout Int64) -> (item: JSONValue, export: JSONValue) {
        let versionID = id * 10 + 1
        let created = 1_704_067_200 + Int64(index) * 86_400 + Int64(random.next(below: 86_400))
        let updated = created + Int64(random.next(below: 30 * 86_400))
        let status = index % 9 == 4 ? "Inactive" : "Active"
        let scheduled = index % 4 == 0
        let version = "0.0.\(1 + random.next(below: 9))"
        func stamp(_ seconds: Int64) -> JSONValue {
            let text = Timestamp.format(Date(timeIntervalSince1970: Double(seconds)))
            // Every seventh item uses the "YYYY-MM-DD HH:MM:SS" form the reference text describes.
            return .string(index % 7 == 3 ? String(text.prefix(19)).replacingOccurrences(of: "T", with: " ") : text)
        }
        let item = JSONValue.object([
            "id": .int(id), "name": .string(name), "description": .string(index % 3 == 0 ? "" : "Demo workflow \(index + 1)"),
            "status": .string(status), "createdAt": stamp(created), "updatedAt": stamp(updated),
            "calloutTrigger": .bool(index % 2 == 0), "ondemandTrigger": .bool(true), "scheduledTrigger": .bool(scheduled),
            "interval": scheduled ? .string("0 6 * * *") : .null, "timezone": scheduled ? .string("UTC") : .null,
            "active_version": .object(["id": .int(versionID), "version": .string(version), "status": .string(status),
                                       "type": .string("Workflow::Setup"), "description": .string("")]),
            "latest_inactive_verisons": .array([]),
        ])
        var tasks: [JSONValue] = []
        var linkages: [JSONValue] = []
        let taskCount = 1 + random.next(below: 9)
        var previous: Int64?
        for position in 0..<taskCount {
            taskID += 1
            let action = actionTypes[(index * 3 + position * 5 + random.next(below: 4)) % actionTypes.count]
            var parameters: [String: JSONValue] = [:]
            switch action {
            case "Callout":
                parameters = ["method": .string("POST"), "url": .string("https://hooks.example.com/\(id)/\(position)"),
                              "retry_rules": .object(["retry_count": .string("\(random.next(below: 4))")])]
            case "Email":
                parameters = ["subject": .string("\(name): step \(position + 1)"), "to": .array([.string("billing@example.com")]),
                              "body": .string("Hello {{Data.Account.Name}},\nyour invoice is ready.")]
            case "Logic::CustomCode":
                parameters = ["code": .string("function run(data) {\n  return data.value * \(position + 2);\n}"), "language": .string("javascript")]
            case "Query":
                parameters = ["zoql": .string("select Id, Balance from Account where Status = 'Active'")]
            default:
                parameters = ["note": .string("\(action) step \(position + 1)")]
            }
            tasks.append(.object([
                "id": .int(taskID), "name": .string("\(action) \(position + 1)"), "action_type": .string(action),
                "call_type": action == "Callout" ? .string("SOAP") : .null, "object": action == "Query" ? .string("Account") : .null,
                "object_id": .null, "task_id": previous.map { .int($0) } ?? .null, "priority": .string("Medium"),
                "concurrent_limit": .int(9_999_999), "tags": .array([.string(position == 0 ? "entry" : "")]), "assignment": .array([]),
                "css": .object(["left": .string("\(30 + position * 220)px"), "top": .string("\(40 + (position % 3) * 90)px")]),
                "parameters": .object(parameters), "status": .null, "error": .null, "error_class": .null, "error_details": .null,
                "original_task_id": .null, "original_workflow_id": .null, "process_id": .null,
            ]))
            if let previous {
                let type = action == "If" ? "True" : (position % 4 == 3 ? "Failure" : "Success")
                linkages.append(.object(["linkage_type": .string(type), "source_workflow_id": .null,
                                         "source_task_id": .int(previous), "target_task_id": .int(taskID)]))
            } else {
                linkages.append(.object(["linkage_type": .string("Start"), "source_workflow_id": .int(versionID),
                                         "source_task_id": .null, "target_task_id": .int(taskID)]))
            }
            previous = taskID
        }
        let export = JSONValue.object([
            "workflow": .object([
                "id": .int(versionID), "name": .string(name), "description": .string(""), "type": .string("Workflow::Setup"),
                "version": .string(version), "status": .null, "priority": .string("Medium"),
                "callout_trigger": .bool(index % 2 == 0), "ondemand_trigger": .bool(true), "scheduled_trigger": .bool(scheduled),
                "sync_trigger": .bool(false), "interval": scheduled ? .string("0 6 * * *") : .null, "timezone": scheduled ? .string("UTC") : .null,
                "css": .object(["left": .string("30px"), "top": .string("40px")]), "data": .object([:]), "parameters": .object([:]),
                "notifications": .object([:]), "delete_ttl": .int(60), "started_at": .null, "finished_at": .null,
                "original_workflow_id": .null, "task_summary": .object([:]),
            ]),
            "tasks": .array(tasks),
            "linkages": .array(linkages),
        ])
        return (item, export)
    }
}

/// A small, fast, seedable generator (SplitMix64), so fixtures are the same everywhere.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextRaw() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(nextRaw() % UInt64(bound)) }
}
