-- Three administrators (三员分立, 等保 level 3): besides the system administrator
-- (`is_admin`), a security administrator (people, roles, passwords, sessions) and an audit
-- administrator (reads and exports the audit trail, nothing else). One duty per account.
ALTER TABLE users ADD COLUMN duty TEXT;

-- The audit trail as a hash chain: each entry's hash covers its position, its fields and the
-- hash before it, so an entry changed, removed or inserted directly in the database breaks
-- the chain (`zhanqun audit verify`). Entries written before this migration stay unchained.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log(seq);
-- The chain's head: one row, locked by every writer of the trail, so entries are chained in
-- the order their transactions take it, on every node.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
