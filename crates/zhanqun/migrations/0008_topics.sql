-- Topics (专题, R5): pages for public concerns with a timeline of linked updates. An emergency
-- topic names its release procedure and the hours allowed for the first release and each update.
CREATE TABLE topics (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    emergency BIGINT NOT NULL DEFAULT 0,
    release_procedure TEXT,
    first_release_hours BIGINT,
    update_hours BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    closed_at BIGINT
);

CREATE TABLE topic_items (
    topic_id BIGINT NOT NULL REFERENCES topics(id),
    document_id BIGINT NOT NULL REFERENCES documents(id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (topic_id, document_id)
);
