-- Teammates' avatars uploaded in the web app (issue 4 §1), kept in the
-- database so every node serves them. admins.avatar holds the URL the API
-- returns; version changes with each upload so the URL can be cached forever.
CREATE TABLE admin_avatars (
  workspace_id TEXT NOT NULL,
  admin_id BIGINT NOT NULL,
  version BIGINT NOT NULL,
  content_type TEXT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (workspace_id, admin_id)
);
