-- Passwords as 等保 level 3 asks: changed by their owner, reset by the security
-- administrator (and then changed at the next sign-in), not reused, and expiring.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
UPDATE users SET password_changed_at = created_at;
CREATE TABLE password_history (
    id ID_PK,
    user_id BIGINT NOT NULL REFERENCES users(id),
    password_hash TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);
