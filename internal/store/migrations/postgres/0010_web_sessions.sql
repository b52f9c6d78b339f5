-- Teammates' web app sessions (docs/web.md): only the SHA-256 of the
-- cookie value is stored, so a leaked database does not sign anyone in.
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    admin_id BIGINT NOT NULL REFERENCES admins(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_admin ON web_sessions (workspace_id, admin_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
