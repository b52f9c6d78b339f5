-- @mentions of teammates in conversation notes (docs/web.md "Inbox"):
-- one row per mentioned teammate and note part, written in the note's
-- transaction; seen_at is set when that teammate opens the conversation.
CREATE TABLE conversation_mentions (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL,
    part_id BIGINT NOT NULL,
    admin_id BIGINT NOT NULL REFERENCES admins(id),
    mentioned_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    seen_at BIGINT,
    PRIMARY KEY (workspace_id, part_id, admin_id)
);
CREATE INDEX conversation_mentions_admin ON conversation_mentions (workspace_id, admin_id, created_at);
CREATE INDEX conversation_mentions_conversation ON conversation_mentions (workspace_id, conversation_id);
