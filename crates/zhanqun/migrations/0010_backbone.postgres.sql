-- The writing transaction's id, as BIGINT (the Any driver has no xid8).
ALTER TABLE outbox ALTER COLUMN tx_id SET DEFAULT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT);
