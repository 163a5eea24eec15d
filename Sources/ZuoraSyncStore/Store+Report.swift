import Foundation
import ZuoraSyncCore

extension Store {
    /// Every customer with its last result and stored totals, by slug.
    public func customerOverviews() throws -> [CustomerOverview] {
        try read { db in
            try db.query("""
                SELECT c.slug, c.name, c.last_synced_at, c.last_result,
                       (SELECT COUNT(*) FROM workflows w WHERE w.customer_id = c.id) AS workflows,
                       (SELECT COUNT(*) FROM tasks t JOIN workflows w ON w.id = t.workflow_id WHERE w.customer_id = c.id) AS tasks
                FROM customers c ORDER BY c.slug
                """).map { row in
                CustomerOverview(slug: row["slug"], name: row["name"], lastSyncedAt: row["last_synced_at"], lastResult: row["last_result"],
                                 workflows: row["workflows"], tasks: row["tasks"])
            }.sorted { $0.slug < $1.slug } // byte order on both engines, whatever PostgreSQL's collation
        }
    }

    /// A customer's workflows with their task counts, action types and priorities, by Zuora id.
    public func workflowOverviews(customerSlug: String) throws -> [WorkflowOverview] {
        try read { db in
            let rows = try db.query("""
                SELECT w.id, w.zuora_id, w.name, w.description, w.status, w.version, w.type, w.updated_on, w.export_sha256,
                       (SELECT COUNT(*) FROM tasks t WHERE t.workflow_id = w.id) AS task_count
                FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.slug = ? ORDER BY w.zuora_id
                """, customerSlug)
            var facets: [Int64: (actions: Set<String>, priorities: Set<String>)] = [:]
            for row in try db.query("""
                SELECT t.workflow_id, t.action_type, t.priority FROM tasks t JOIN workflows w ON w.id = t.workflow_id
                JOIN customers c ON c.id = w.customer_id WHERE c.slug = ?
                """, customerSlug) {
                let id: Int64 = row["workflow_id"]
                if let action: String = row["action_type"] { facets[id, default: ([], [])].actions.insert(action) }
                if let priority: String = row["priority"] { facets[id, default: ([], [])].priorities.insert(priority) }
            }
            return rows.map { row in
                let rowID: Int64 = row["id"]
                return WorkflowOverview(zuoraID: row["zuora_id"], name: row["name"], description: row["description"], status: row["status"],
                                        version: row["version"], type: row["type"], updatedOn: row["updated_on"],
                                        exportSHA256: row["export_sha256"], taskCount: row["task_count"],
                                        actionTypes: (facets[rowID]?.actions ?? []).sorted(), priorities: (facets[rowID]?.priorities ?? []).sorted())
            }
        }
    }

    /// A workflow's tasks and linkages.
    public func taskGraph(customerSlug: String, zuoraID: Int64) throws -> (tasks: [TaskOverview], linkages: [LinkageOverview]) {
        try read { db in
            let tasks = try db.query("""
                SELECT t.zuora_task_id, t.parent_task_id, t.name, t.action_type, t.object, t.priority FROM tasks t
                JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id
                WHERE c.slug = ? AND w.zuora_id = ? ORDER BY t.zuora_task_id
                """, customerSlug, zuoraID).map { row in
                TaskOverview(zuoraTaskID: row["zuora_task_id"], parentTaskID: row["parent_task_id"], name: row["name"],
                             actionType: row["action_type"], object: row["object"], priority: row["priority"])
            }
            let linkages = try db.query("""
                SELECT l.linkage_type, l.source_task_id, l.target_task_id FROM linkages l
                JOIN workflows w ON w.id = l.workflow_id JOIN customers c ON c.id = w.customer_id
                WHERE c.slug = ? AND w.zuora_id = ? ORDER BY l.id
                """, customerSlug, zuoraID).map { row in
                LinkageOverview(linkageType: row["linkage_type"], sourceTaskID: row["source_task_id"], targetTaskID: row["target_task_id"])
            }
            return (tasks, linkages)
        }
    }
}
