-- The inbox counts its views on every page: Your inbox, Unassigned, All,
-- each team's, per state. Counting the rows each time reads every matching
-- index entry (tens of milliseconds at 100,000 conversations), so the
-- counts are kept per (state, teammate, team) by triggers, in the same
-- transaction as the change, whatever code path makes it. 0 stands for
-- "nobody" (NULL assignee). A view's count is the sum of a few rows.
CREATE TABLE conversation_counts (
  workspace_id TEXT NOT NULL,
  state TEXT NOT NULL,
  admin_id INTEGER NOT NULL,
  team_id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, state, admin_id, team_id)
) WITHOUT ROWID;

INSERT INTO conversation_counts (workspace_id, state, admin_id, team_id, n)
SELECT workspace_id, state, coalesce(admin_assignee_id, 0), coalesce(team_assignee_id, 0), count(*)
FROM conversations GROUP BY 1, 2, 3, 4;

CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations BEGIN
  INSERT INTO conversation_counts (workspace_id, state, admin_id, team_id, n)
  VALUES (NEW.workspace_id, NEW.state, coalesce(NEW.admin_assignee_id, 0), coalesce(NEW.team_assignee_id, 0), 1)
  ON CONFLICT (workspace_id, state, admin_id, team_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations BEGIN
  UPDATE conversation_counts SET n = n - 1
  WHERE workspace_id = OLD.workspace_id AND state = OLD.state
    AND admin_id = coalesce(OLD.admin_assignee_id, 0) AND team_id = coalesce(OLD.team_assignee_id, 0);
END;

CREATE TRIGGER conversation_counts_update AFTER UPDATE OF state, admin_assignee_id, team_assignee_id ON conversations
WHEN OLD.state IS NOT NEW.state OR OLD.admin_assignee_id IS NOT NEW.admin_assignee_id OR OLD.team_assignee_id IS NOT NEW.team_assignee_id
BEGIN
  UPDATE conversation_counts SET n = n - 1
  WHERE workspace_id = OLD.workspace_id AND state = OLD.state
    AND admin_id = coalesce(OLD.admin_assignee_id, 0) AND team_id = coalesce(OLD.team_assignee_id, 0);
  INSERT INTO conversation_counts (workspace_id, state, admin_id, team_id, n)
  VALUES (NEW.workspace_id, NEW.state, coalesce(NEW.admin_assignee_id, 0), coalesce(NEW.team_assignee_id, 0), 1)
  ON CONFLICT (workspace_id, state, admin_id, team_id) DO UPDATE SET n = n + 1;
END;
