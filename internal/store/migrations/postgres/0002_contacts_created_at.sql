-- Search sorts by created_at (descending) by default.
CREATE INDEX contacts_created_at ON contacts (workspace_id, created_at, id);
