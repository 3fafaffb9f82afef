-- The city's one mailbox (R6): handling bodies and their people, letters, the words that
-- hold a letter for moderation, and the secret that signs public-form challenges.
CREATE TABLE bodies (
    id ID_PK,
    name TEXT NOT NULL UNIQUE,
    site_id BIGINT REFERENCES sites(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE body_members (
    user_id BIGINT NOT NULL REFERENCES users(id),
    body_id BIGINT NOT NULL REFERENCES bodies(id),
    PRIMARY KEY (user_id, body_id)
);

CREATE TABLE letters (
    id ID_PK,
    channel TEXT NOT NULL,
    to_body_id BIGINT REFERENCES bodies(id),
    site_id BIGINT REFERENCES sites(id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    writer_name TEXT NOT NULL,
    writer_contact TEXT NOT NULL,
    may_publish BIGINT NOT NULL,
    code_hash TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    held BIGINT NOT NULL DEFAULT 0,
    handling_body_id BIGINT REFERENCES bodies(id),
    contact_person TEXT,
    arrived_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    due_estimated BIGINT NOT NULL DEFAULT 0,
    extended BIGINT NOT NULL DEFAULT 0,
    extension_reason TEXT,
    reply TEXT,
    replied_on TEXT,
    reply_working_days BIGINT,
    on_time BIGINT,
    not_handled_reason TEXT,
    rating BIGINT,
    rating_comment TEXT,
    imported BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX letters_body_state ON letters(handling_body_id, state);
CREATE INDEX letters_state_due ON letters(state, due_on);
CREATE INDEX letters_contact ON letters(writer_contact, created_at);

CREATE TABLE sensitive_words (
    word TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
