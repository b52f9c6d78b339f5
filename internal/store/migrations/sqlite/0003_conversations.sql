-- Conversations (issue 3 §1). Ids are integers shown as strings, like Intercom's.
-- source_* is the message that started the conversation; statistics is a
-- JSON object kept by the rules in internal/conversation.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'snoozed')),
    read BOOLEAN NOT NULL DEFAULT 0,
    title TEXT,
    priority TEXT NOT NULL DEFAULT 'none' CHECK (priority IN ('none', 'low', 'medium', 'high', 'urgent')),
    admin_assignee_id INTEGER,
    team_assignee_id INTEGER,
    snoozed_until INTEGER,
    waiting_since INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    source_type TEXT NOT NULL,
    source_delivered_as TEXT NOT NULL,
    source_subject TEXT NOT NULL DEFAULT '',
    source_body TEXT NOT NULL DEFAULT '',
    source_author TEXT NOT NULL,
    source_url TEXT,
    source_attachments TEXT NOT NULL DEFAULT '[]',
    rating TEXT,
    statistics TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_workspace ON conversations (workspace_id, id);
CREATE INDEX conversations_updated ON conversations (workspace_id, updated_at, id);

CREATE TABLE conversation_contacts (
    workspace_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX conversation_contacts_contact ON conversation_contacts (workspace_id, contact_id, conversation_id);

CREATE TABLE conversation_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    part_type TEXT NOT NULL,
    body TEXT,
    author_type TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT,
    author_email TEXT NOT NULL DEFAULT '',
    assigned_to TEXT,
    state TEXT NOT NULL,
    metadata TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversation_parts_conversation ON conversation_parts (workspace_id, conversation_id, id);

CREATE TABLE conversation_tags (
    workspace_id TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    tag_id INTEGER NOT NULL,
    applied_at INTEGER NOT NULL,
    applied_by INTEGER,
    PRIMARY KEY (workspace_id, conversation_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX conversation_tags_tag ON conversation_tags (workspace_id, tag_id, conversation_id);
