-- A repost goes live on the receiving site when that site's reviewer accepts it, or at once
-- when it comes from a site above the receiver (issue 10, hole 4). Reposts made before this
-- rule were live, and stay so.
ALTER TABLE reposts ADD COLUMN accepted_at BIGINT;
ALTER TABLE reposts ADD COLUMN accepted_by TEXT;
UPDATE reposts SET accepted_at = created_at, accepted_by = created_by;
