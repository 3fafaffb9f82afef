-- Archive-and-prune of the audit trail (等保 level 3 asks for at least 180 days; the
-- platform keeps everything unless `audit_retention_days` is set). `zhanqun audit archive`
-- writes the oldest entries to a file and removes them; this row says how far: the last
-- removed entry's id, its chain position and hash, so the chain is checked from there on.
-- Triggers let DELETE through only up to `through_id`, and the row moves only forward.
CREATE TABLE audit_archived (
    id BIGINT PRIMARY KEY,
    through_id BIGINT NOT NULL,
    through_seq BIGINT NOT NULL,
    through_hash TEXT NOT NULL
);
INSERT INTO audit_archived (id, through_id, through_seq, through_hash) VALUES (1, 0, 0, '');
