-- Staff sign-in through the city's identity provider (people/oidc.rs): sign-ins started and
-- not yet finished (keyed by the hash of their `state`, good once, for ten minutes), and
-- how each admin session was opened.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
ALTER TABLE sessions ADD COLUMN via TEXT NOT NULL DEFAULT 'password';
