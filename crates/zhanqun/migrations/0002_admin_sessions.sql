-- Admin UI sessions (cookie holds the token; only its hash is stored) and one-time form
-- tokens that make a double-submitted form act once.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE form_tokens (
    token TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    result TEXT
);

-- Nodes read recent audit entries to learn what other nodes changed (page caches, hosts).
CREATE INDEX audit_log_at ON audit_log(at);
