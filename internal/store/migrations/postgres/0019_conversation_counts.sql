-- The inbox counts its views on every page: Your inbox, Unassigned, All,
-- each team's, per state. Counting the rows each time reads every matching
-- index entry (tens of milliseconds at 100,000 conversations), so the
-- counts are kept per (state, teammate, team) by triggers, in the same
-- transaction as the change, whatever code path makes it. 0 stands for
-- "nobody" (NULL assignee). A view's count is the sum of a few rows.
CREATE TABLE conversation_counts (
  workspace_id TEXT NOT NULL,
  state TEXT NOT NULL,
  admin_id BIGINT NOT NULL,
  team_id BIGINT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, state, admin_id, team_id)
);

INSERT INTO conversation_counts (workspace_id, state, admin_id, team_id, n)
SELECT workspace_id, state, coalesce(admin_assignee_id, 0), coalesce(team_assignee_id, 0), count(*)
FROM conversations GROUP BY 1, 2, 3, 4;

CREATE FUNCTION conversation_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE conversation_counts SET n = n - 1
    WHERE workspace_id = OLD.workspace_id AND state = OLD.state
      AND admin_id = coalesce(OLD.admin_assignee_id, 0) AND team_id = coalesce(OLD.team_assignee_id, 0);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO conversation_counts (workspace_id, state, admin_id, team_id, n)
    VALUES (NEW.workspace_id, NEW.state, coalesce(NEW.admin_assignee_id, 0), coalesce(NEW.team_assignee_id, 0), 1)
    ON CONFLICT (workspace_id, state, admin_id, team_id) DO UPDATE SET n = conversation_counts.n + 1;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER conversation_counts_insert_delete AFTER INSERT OR DELETE ON conversations
FOR EACH ROW EXECUTE FUNCTION conversation_counts_track();

CREATE TRIGGER conversation_counts_update AFTER UPDATE OF state, admin_assignee_id, team_assignee_id ON conversations
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.admin_assignee_id IS DISTINCT FROM NEW.admin_assignee_id
  OR OLD.team_assignee_id IS DISTINCT FROM NEW.team_assignee_id)
EXECUTE FUNCTION conversation_counts_track();
