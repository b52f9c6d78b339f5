-- Teams, their members, and assignment rules (issue 3 §2).
CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    -- How the team's conversations reach its teammates.
    distribution TEXT NOT NULL DEFAULT 'manual' CHECK (distribution IN ('manual', 'round_robin', 'balanced')),
    -- Open conversations one teammate may hold before distribution skips them; NULL: no limit.
    assignment_limit INTEGER CHECK (assignment_limit IS NULL OR assignment_limit > 0),
    -- Round robin: the teammate who was handed the last conversation.
    rr_cursor INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams (workspace_id, lower(name));

CREATE TABLE team_members (
    workspace_id TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    admin_id INTEGER NOT NULL REFERENCES admins(id),
    -- Secondary teammates get conversations only when no primary one can.
    secondary BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, team_id, admin_id)
);
CREATE INDEX team_members_admin ON team_members (workspace_id, admin_id);

CREATE TABLE assignment_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    priority INTEGER NOT NULL,
    -- A filter (package query) over the conversation and its contact.
    condition TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    admin_id INTEGER REFERENCES admins(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((team_id IS NULL) <> (admin_id IS NULL))
);
CREATE INDEX assignment_rules_order ON assignment_rules (workspace_id, priority, id);
CREATE INDEX assignment_rules_team ON assignment_rules (workspace_id, team_id) WHERE team_id IS NOT NULL;
