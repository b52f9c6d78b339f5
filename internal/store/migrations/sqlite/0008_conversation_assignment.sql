-- Assignment reads conversations by teammate (open counts, an away
-- teammate's conversations) and by team inbox (waiting conversations).
CREATE INDEX conversations_admin_assignee ON conversations (workspace_id, admin_assignee_id, state);
CREATE INDEX conversations_team_assignee ON conversations (workspace_id, team_assignee_id, state);
