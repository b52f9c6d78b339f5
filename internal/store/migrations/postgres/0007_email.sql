-- Replies by email (internal/email, docs/email.md).

-- How far the email scheduler has read each workspace's event log.
CREATE TABLE email_cursors (
    workspace_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- The unguessable reply address of a conversation: reply+<token>@domain.
CREATE TABLE email_threads (
    workspace_id TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
);

-- Every email sent (direction 'out', sent_at set once the SMTP server took
-- it, error once it refused it for good) or received ('in') for a
-- conversation, by Message-ID: threading of inbound replies, References of
-- outbound ones, and no double sends.
CREATE TABLE email_messages (
    workspace_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    conversation_id BIGINT NOT NULL,
    direction TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    address TEXT NOT NULL,
    part_ids TEXT NOT NULL DEFAULT '[]',
    sent_at BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, message_id)
);
CREATE INDEX email_messages_conversation ON email_messages (workspace_id, conversation_id, created_at);

-- Which teammate reply went to which contact in which email.
CREATE TABLE email_parts (
    workspace_id TEXT NOT NULL,
    part_id BIGINT NOT NULL,
    contact_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (workspace_id, part_id, contact_id)
);
