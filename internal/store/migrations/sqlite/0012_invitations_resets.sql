-- Teammate invitations and password resets (docs/web.md): only the SHA-256
-- of each emailed token is stored; each is single-use and expires.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by INTEGER NOT NULL REFERENCES admins(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER
);
CREATE INDEX invitations_workspace ON invitations (workspace_id, created_at);
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    admin_id INTEGER NOT NULL REFERENCES admins(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX password_resets_admin ON password_resets (workspace_id, admin_id);
