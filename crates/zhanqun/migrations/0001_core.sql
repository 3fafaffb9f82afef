-- The cluster core. Portable SQL for SQLite and PostgreSQL: `ID_PK` is replaced by each
-- backend's auto-increment primary key; times are Unix milliseconds (UTC) in BIGINT;
-- flags are BIGINT 0/1.

CREATE TABLE users (
    id ID_PK,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id ID_PK,
    user_id BIGINT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE sites (
    id ID_PK,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sponsor TEXT NOT NULL,
    parent_id BIGINT REFERENCES sites(id),
    primary_domain TEXT,
    site_code TEXT,
    icp_filing TEXT,
    psb_filing TEXT,
    contact TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    require_distinct_reviewer BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sites_site_code ON sites(site_code);

-- Every domain of every site, primary and aliases: one site per host name.
CREATE TABLE site_domains (
    domain TEXT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    is_primary BIGINT NOT NULL
);
CREATE INDEX site_domains_site ON site_domains(site_id);

CREATE TABLE site_roles (
    user_id BIGINT NOT NULL REFERENCES users(id),
    site_id BIGINT NOT NULL REFERENCES sites(id),
    role TEXT NOT NULL,
    granted_by BIGINT,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, site_id, role)
);

CREATE TABLE columns (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    parent_id BIGINT REFERENCES columns(id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    owner TEXT NOT NULL,
    duty TEXT NOT NULL,
    duty_days BIGINT,
    status TEXT NOT NULL DEFAULT 'active',
    merged_into BIGINT REFERENCES columns(id),
    sort_order BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (site_id, slug)
);

CREATE TABLE documents (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    locale TEXT NOT NULL,
    state TEXT NOT NULL,
    canonical_column_id BIGINT REFERENCES columns(id),
    draft_edition_id BIGINT,
    live_edition_id BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_published_at BIGINT,
    unpublish_mode TEXT,
    unpublish_note TEXT,
    redirect_url TEXT,
    reject_reason TEXT
);
CREATE INDEX documents_site_state ON documents(site_id, state);

CREATE TABLE editions (
    id ID_PK,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    number BIGINT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    keywords TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    body_format TEXT NOT NULL,
    body_source TEXT NOT NULL,
    body_html TEXT NOT NULL,
    publish_at BIGINT,
    published_at BIGINT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    submitted_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (document_id, number)
);

CREATE TABLE document_columns (
    document_id BIGINT NOT NULL REFERENCES documents(id),
    column_id BIGINT NOT NULL REFERENCES columns(id),
    PRIMARY KEY (document_id, column_id)
);
CREATE INDEX document_columns_column ON document_columns(column_id);

CREATE TABLE attachments (
    id ID_PK,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_document ON attachments(document_id);

-- Append-only: triggers in the backend-specific part refuse UPDATE and DELETE.
CREATE TABLE audit_log (
    id ID_PK,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    site_id BIGINT,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id, id);
CREATE INDEX audit_log_site ON audit_log(site_id, id);

-- Durable background work (scheduled publishing, later reminders and crawls).
CREATE TABLE jobs (
    id ID_PK,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(done_at, run_at);
