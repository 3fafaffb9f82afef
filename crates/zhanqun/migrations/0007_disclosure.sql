-- Disclosure metadata (R3.2) on documents, and the per-body, per-year index-number counters.
ALTER TABLE bodies ADD COLUMN code TEXT;

CREATE TABLE disclosures (
    document_id BIGINT PRIMARY KEY REFERENCES documents(id),
    doc_type TEXT NOT NULL,
    issuing_body_id BIGINT NOT NULL REFERENCES bodies(id),
    document_number TEXT,
    subject TEXT NOT NULL,
    date_written TEXT NOT NULL,
    validity TEXT NOT NULL,
    validity_changed_on TEXT,
    changed_by_document_id BIGINT REFERENCES documents(id),
    disclosure_mode TEXT NOT NULL,
    nondisclosure_reason TEXT,
    index_number TEXT UNIQUE,
    important BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX disclosures_catalog ON disclosures(issuing_body_id, subject, validity);

CREATE TABLE index_counters (
    body_id BIGINT NOT NULL REFERENCES bodies(id),
    year BIGINT NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (body_id, year)
);

-- Interpretations (R4): which document interprets which policy, and in what form.
CREATE TABLE interpretation_links (
    interpretation_id BIGINT NOT NULL REFERENCES documents(id),
    policy_id BIGINT NOT NULL REFERENCES documents(id),
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (interpretation_id, policy_id)
);
CREATE INDEX interpretation_links_policy ON interpretation_links(policy_id);
