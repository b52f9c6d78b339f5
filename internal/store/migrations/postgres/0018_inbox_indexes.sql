-- The inbox (issue 4) lists a state of a view newest/oldest first, by
-- waiting time or by priority, and counts every view. These indexes let
-- each list read its first page in index order instead of sorting every
-- matching conversation. The priority expression is the one the inbox
-- sorts by (web/inbox.go priorityRank); both must stay identical for the
-- index to be used. The keyset order puts NULLs last in both directions
-- ("DESC NULLS LAST"), which a plain index read backwards does not give,
-- so the descending orders the inbox uses have their own direction here.
DROP INDEX conversations_admin_assignee;
DROP INDEX conversations_team_assignee;
CREATE INDEX conversations_admin_assignee ON conversations (workspace_id, admin_assignee_id, state, created_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_team_assignee ON conversations (workspace_id, team_assignee_id, state, created_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_state_created ON conversations (workspace_id, state, created_at, id);
CREATE INDEX conversations_state_newest ON conversations (workspace_id, state, created_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_state_waiting ON conversations (workspace_id, state, waiting_since, id);
CREATE INDEX conversations_state_priority ON conversations (workspace_id, state, (CASE priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) DESC NULLS LAST, id DESC);
