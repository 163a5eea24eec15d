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
        // Run history: one row per run and customer, one per workflow a run created, updated or
        // deleted; and the views an analyst joins by hand otherwise. Append-only: never edit an earlier migration.
        migrator.registerMigration("v2-history") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    run_id TEXT NOT NULL,
                    customer_slug TEXT NOT NULL,
                    pipeline TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'interrupted')),
                    is_dry_run INTEGER NOT NULL DEFAULT 0,
                    started_at TEXT NOT NULL,
                    finished_at TEXT NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    workflows INTEGER,
                    tasks INTEGER,
                    created INTEGER NOT NULL DEFAULT 0,
                    updated INTEGER NOT NULL DEFAULT 0,
                    deleted INTEGER NOT NULL DEFAULT 0,
                    warnings INTEGER NOT NULL DEFAULT 0,
                    requests INTEGER NOT NULL DEFAULT 0,
                    retries INTEGER NOT NULL DEFAULT 0,
                    failed_stage TEXT,
                    error TEXT,
                    PRIMARY KEY (run_id, customer_slug)
                );
                CREATE INDEX runs_customer_finished ON runs(customer_slug, finished_at);
                CREATE TABLE workflow_changes (
                    id INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL,
                    customer_slug TEXT NOT NULL,
                    zuora_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
                    fields TEXT NOT NULL DEFAULT '[]',
                    export_sha256_before TEXT,
                    export_sha256_after TEXT,
                    changed_at TEXT NOT NULL,
                    UNIQUE (run_id, customer_slug, zuora_id, action)
                );
                CREATE INDEX workflow_changes_workflow ON workflow_changes(customer_slug, zuora_id);
                CREATE VIEW task_details AS
                    SELECT c.slug AS customer_slug, w.zuora_id AS workflow_zuora_id, w.name AS workflow_name,
                           w.status AS workflow_status, t.*
                    FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id;
                CREATE VIEW linkage_details AS
                    SELECT c.slug AS customer_slug, w.zuora_id AS workflow_zuora_id, w.name AS workflow_name,
                           l.linkage_type, l.source_workflow_id, l.source_task_id, s.name AS source_task_name,
                           l.target_task_id, t.name AS target_task_name, l.id AS linkage_id
                    FROM linkages l JOIN workflows w ON w.id = l.workflow_id JOIN customers c ON c.id = w.customer_id
                    LEFT JOIN tasks s ON s.workflow_id = l.workflow_id AND s.zuora_task_id = l.source_task_id
                    LEFT JOIN tasks t ON t.workflow_id = l.workflow_id AND t.zuora_task_id = l.target_task_id;
                """)
        }
        // The export text moves behind every other column (same name, same content): SQLite reads a
        // row's columns in order, so reading a hash or a date no longer walks the export's overflow
        // pages (scans of hashes were about 9x slower). Append-only: never edit an earlier migration.
        migrator.registerMigration("v3-export-last") { db in
            try db.execute(sql: """
                ALTER TABLE workflows RENAME COLUMN export TO export_before_v3;
                ALTER TABLE workflows ADD COLUMN export TEXT;
                UPDATE workflows SET export = export_before_v3;
                ALTER TABLE workflows DROP COLUMN export_before_v3;
                """)
        }
        // Which export each workflow's tasks come from moves to a table of its own: SQLite rewrites
        // a whole row on UPDATE, so marking a workflow's tasks as extracted rewrote its export's
        // overflow pages (twice the bytes of the exports written again at every full sync).
        // Append-only: never edit an earlier migration.
        migrator.registerMigration("v4-task-sources") { db in
            try db.execute(sql: """
                CREATE TABLE task_sources (
                    workflow_id INTEGER PRIMARY KEY REFERENCES workflows(id) ON DELETE CASCADE,
                    export_sha256 TEXT NOT NULL
                );
                INSERT INTO task_sources (workflow_id, export_sha256)
                    SELECT id, tasks_export_sha256 FROM workflows WHERE tasks_export_sha256 IS NOT NULL;
                ALTER TABLE workflows DROP COLUMN tasks_export_sha256;
                """)
        }
        // What listing the customer's rows were last proven to match (`Store.recordListingMatch`),
        // so an unchanged resync need not compare every row again. Any change to a customer's
        // workflows or task sources, by the tool or by hand, forgets it (the triggers).
        migrator.registerMigration("v5-listing-match") { db in
            try db.execute(sql: """
                ALTER TABLE customers ADD COLUMN listing_sha256 TEXT;
                ALTER TABLE customers ADD COLUMN listing_match_id TEXT;
                CREATE TRIGGER workflows_insert_forgets_listing AFTER INSERT ON workflows BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL WHERE id = NEW.customer_id AND listing_sha256 IS NOT NULL;
                END;
                CREATE TRIGGER workflows_update_forgets_listing AFTER UPDATE ON workflows BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL WHERE id IN (OLD.customer_id, NEW.customer_id) AND listing_sha256 IS NOT NULL;
                END;
                CREATE TRIGGER workflows_delete_forgets_listing AFTER DELETE ON workflows BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL WHERE id = OLD.customer_id AND listing_sha256 IS NOT NULL;
                END;
                CREATE TRIGGER task_sources_insert_forgets_listing AFTER INSERT ON task_sources BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL
                    WHERE id = (SELECT customer_id FROM workflows WHERE id = NEW.workflow_id) AND listing_sha256 IS NOT NULL;
                END;
                CREATE TRIGGER task_sources_update_forgets_listing AFTER UPDATE ON task_sources BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL
                    WHERE id IN (SELECT customer_id FROM workflows WHERE id IN (OLD.workflow_id, NEW.workflow_id)) AND listing_sha256 IS NOT NULL;
                END;
                CREATE TRIGGER task_sources_delete_forgets_listing AFTER DELETE ON task_sources BEGIN
                    UPDATE customers SET listing_sha256 = NULL, listing_match_id = NULL
                    WHERE id = (SELECT customer_id FROM workflows WHERE id = OLD.workflow_id) AND listing_sha256 IS NOT NULL;
                END;
                """)
        }
        return migrator
    }
}
