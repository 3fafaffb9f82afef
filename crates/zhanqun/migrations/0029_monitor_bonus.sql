-- The 30-point bonus part for portals: an external site the office adds may be marked a
-- portal (cluster sites are portals by their kind); a run keeps its bonus ×10 beside its
-- score (NULL for a site that is not a portal or could not be read).
ALTER TABLE monitor_targets ADD COLUMN portal BIGINT NOT NULL DEFAULT 0;
ALTER TABLE monitor_runs ADD COLUMN bonus_tenths BIGINT;
