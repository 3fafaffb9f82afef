-- The public forms' signed questions, once answered: a solved question works once (issue 10).
-- Kept until the question would have expired anyway.
CREATE TABLE used_challenges (
    nonce TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_challenges_expiry ON used_challenges(expires_at);
