-- Parley schema, SQLite dialect. Every table carries workspace_id.
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    event_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'agent',
    job_title TEXT,
    away_mode_enabled BOOLEAN NOT NULL DEFAULT 0,
    away_mode_reassign BOOLEAN NOT NULL DEFAULT 0,
    avatar TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, email)
);

CREATE TABLE access_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    admin_id INTEGER REFERENCES admins(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE event_log (
    workspace_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    topic TEXT NOT NULL,
    item TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);

CREATE TABLE contacts (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    role TEXT NOT NULL,
    external_id TEXT,
    email TEXT,
    phone TEXT,
    name TEXT,
    avatar TEXT,
    owner_id INTEGER,
    has_hard_bounced BOOLEAN NOT NULL DEFAULT 0,
    marked_email_as_spam BOOLEAN NOT NULL DEFAULT 0,
    unsubscribed_from_emails BOOLEAN NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    signed_up_at INTEGER,
    last_seen_at INTEGER,
    last_replied_at INTEGER,
    last_contacted_at INTEGER,
    last_email_opened_at INTEGER,
    last_email_clicked_at INTEGER,
    language_override TEXT,
    browser TEXT,
    browser_version TEXT,
    browser_language TEXT,
    os TEXT,
    location_country TEXT,
    location_region TEXT,
    location_city TEXT,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    archived BOOLEAN NOT NULL DEFAULT 0,
    blocked BOOLEAN NOT NULL DEFAULT 0,
    merged_into TEXT,
    PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_email ON contacts (workspace_id, email) WHERE email IS NOT NULL;

CREATE TABLE companies (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    name TEXT,
    plan TEXT,
    size INTEGER,
    website TEXT,
    industry TEXT,
    monthly_spend REAL,
    session_count INTEGER NOT NULL DEFAULT 0,
    remote_created_at INTEGER,
    last_request_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    custom_attributes TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, company_id)
) WITHOUT ROWID;
CREATE INDEX companies_name ON companies (workspace_id, name);

CREATE TABLE company_contacts (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, company_id)
) WITHOUT ROWID;
CREATE INDEX company_contacts_company ON company_contacts (workspace_id, company_id, contact_id);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE contact_tags (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    tag_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags (workspace_id, tag_id, contact_id);

CREATE TABLE company_tags (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    tag_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, company_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX company_tags_tag ON company_tags (workspace_id, tag_id, company_id);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    author_id INTEGER,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_contact ON notes (workspace_id, contact_id, id);

CREATE TABLE data_attributes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    model TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    data_type TEXT NOT NULL,
    options TEXT,
    archived BOOLEAN NOT NULL DEFAULT 0,
    messenger_writable BOOLEAN NOT NULL DEFAULT 0,
    admin_id INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace_id, model, name)
);

CREATE TABLE data_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (workspace_id, contact_id, event_name, created_at)
);
CREATE INDEX data_events_contact ON data_events (workspace_id, contact_id, created_at);

CREATE TABLE segments (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    person_type TEXT NOT NULL DEFAULT 'user',
    filter TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    payload TEXT NOT NULL DEFAULT '{}',
    result TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    run_at INTEGER NOT NULL,
    locked_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

CREATE TABLE blobs (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
