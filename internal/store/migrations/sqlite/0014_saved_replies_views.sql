-- Saved replies (settings, owner/admin) and teammates' custom inbox views
-- saved from a conversation filter (docs/web.md "Inbox").
CREATE TABLE saved_replies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_replies_name ON saved_replies (workspace_id, name);
CREATE TABLE inbox_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    admin_id INTEGER NOT NULL REFERENCES admins(id),
    name TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX inbox_views_admin ON inbox_views (workspace_id, admin_id);
