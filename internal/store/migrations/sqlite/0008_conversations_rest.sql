-- Assignment reads conversations by teammate (open counts, an away
-- teammate's conversations) and by team inbox (waiting conversations).
CREATE INDEX conversations_admin_assignee ON conversations (workspace_id, admin_assignee_id, state);
CREATE INDEX conversations_team_assignee ON conversations (workspace_id, team_assignee_id, state);

-- Conversation attributes (Intercom 2.16 /conversations/attributes): the
-- typed custom_attributes of conversations. options and
-- visible_to_team_ids are JSON arrays.
CREATE TABLE conversation_attributes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    data_type TEXT NOT NULL CHECK (data_type IN ('string', 'integer', 'list', 'decimal', 'boolean', 'datetime')),
    required BOOLEAN NOT NULL DEFAULT 0,
    multiline BOOLEAN NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT 0,
    visible_to_team_ids TEXT NOT NULL DEFAULT '[]',
    options TEXT NOT NULL DEFAULT '[]',
    admin_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversation_attributes_name ON conversation_attributes (workspace_id, name);
