-- Who passed an edition's secrecy review, so that a site can require its editorial review
-- of someone else (separation of duties, 等保 level 3).
ALTER TABLE editions ADD COLUMN secrecy_reviewed_by BIGINT;
