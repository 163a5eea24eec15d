import GRDB

/// The database schema, as numbered migrations. README documents the columns.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE customers (
                    id INTEGER PRIMARY KEY,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    base_url TEXT NOT NULL,
                    last_synced_at TEXT,
                    last_full_export_at TEXT,
                    last_result TEXT
                );
                CREATE TABLE workflows (
                    id INTEGER PRIMARY KEY,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    zuora_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT,
                    status TEXT,
                    type TEXT,
                    version TEXT,
                    active_version_id INTEGER,
                    callout_trigger INTEGER,
                    ondemand_trigger INTEGER,
                    scheduled_trigger INTEGER,
                    interval TEXT,
                    timezone TEXT,
                    created_on TEXT,
                    updated_on TEXT,
                    export TEXT,
                    export_sha256 TEXT,
                    export_synced_at TEXT,
                    last_synced_at TEXT NOT NULL,
                    UNIQUE (customer_id, zuora_id)
                );
                CREATE TABLE tasks (
                    id INTEGER PRIMARY KEY,
                    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                    zuora_task_id INTEGER NOT NULL,
                    parent_task_id INTEGER,
                    name TEXT,
                    action_type TEXT,
                    call_type TEXT,
                    object TEXT,
                    object_id TEXT,
                    priority TEXT,
                    concurrent_limit INTEGER,
                    tags TEXT,
                    parameters TEXT,
                    assignment TEXT,
                    css TEXT,
                    zuora_org_id TEXT,
                    subprocess_id TEXT,
                    UNIQUE (workflow_id, zuora_task_id)
                );
                CREATE TABLE linkages (
                    id INTEGER PRIMARY KEY,
                    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                    linkage_type TEXT NOT NULL,
                    source_workflow_id INTEGER,
                    source_task_id INTEGER,
                    target_task_id INTEGER
                );
                -- workflows(customer_id) and tasks(workflow_id) are covered by the leading column of their UNIQUE indexes.
                CREATE INDEX linkages_workflow_id ON linkages(workflow_id);
                CREATE INDEX tasks_action_type ON tasks(action_type);
                CREATE INDEX workflows_zuora_id ON workflows(zuora_id);
                """)
        }
        // Which export each workflow's tasks were extracted from, so task extraction follows the
        // stored export whichever run stored it. Existing rows were extracted from their export.
        migrator.registerMigration("v2-tasks-export-sha256") { db in
            try db.execute(sql: """
                ALTER TABLE workflows ADD COLUMN tasks_export_sha256 TEXT;
                UPDATE workflows SET tasks_export_sha256 = export_sha256;
                """)
        }
        return migrator
    }
}
