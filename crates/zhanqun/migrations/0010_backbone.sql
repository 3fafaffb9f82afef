-- The backbone: events through an outbox, subscriber cursors, and jobs that run outside
-- any write transaction.

-- Every command's events, written in the command's own transaction (the transactional
-- outbox): what is committed is delivered, to this node and to every other, after a crash too.
CREATE TABLE outbox (
    id ID_PK,
    -- PostgreSQL: the writing transaction's id. Readers read only below the oldest
    -- transaction still running, so an event committed late is never skipped. SQLite has
    -- one writer at a time and commits in id order: 0.
    tx_id BIGINT NOT NULL DEFAULT 0,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    site_id BIGINT,
    payload TEXT NOT NULL
);
CREATE INDEX outbox_order ON outbox(tx_id, id);
CREATE INDEX outbox_at ON outbox(at);

-- How far each durable subscriber has read, and which node reads for it now.
CREATE TABLE outbox_cursors (
    name TEXT PRIMARY KEY,
    tx_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    leased_by TEXT,
    lease_until BIGINT,
    delivered BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Jobs: claimed in one short transaction, run outside any, finished in another.
ALTER TABLE jobs ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
ALTER TABLE jobs ADD COLUMN started_at BIGINT;
ALTER TABLE jobs ADD COLUMN progress TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN locked_by TEXT;
UPDATE jobs SET state = 'failed' WHERE done_at IS NOT NULL AND last_error IS NOT NULL AND attempts >= 8;
UPDATE jobs SET state = 'done' WHERE done_at IS NOT NULL AND state = 'queued';
CREATE INDEX jobs_queue ON jobs(state, run_at);
