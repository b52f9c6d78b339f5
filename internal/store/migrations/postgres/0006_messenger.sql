-- The Messenger (docs/messenger.md): anonymous visitors (not contacts, so
-- the contacts API and search never see them), per-workspace settings with
-- the identity-verification secret and the session key, uploaded
-- attachments, and the teammates' read receipt.
CREATE TABLE visitors (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    contact_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_request_at BIGINT,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, user_id)
);
CREATE UNIQUE INDEX visitors_token ON visitors (token_hash);
CREATE INDEX visitors_email ON visitors (workspace_id, email);

CREATE TABLE messenger_settings (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    settings TEXT NOT NULL DEFAULT '{}',
    identity_secret TEXT NOT NULL,
    identity_enforced BOOLEAN NOT NULL DEFAULT FALSE,
    session_key TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE attachments (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploader TEXT NOT NULL,
    conversation_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

ALTER TABLE conversations ADD COLUMN admin_seen_at BIGINT;
