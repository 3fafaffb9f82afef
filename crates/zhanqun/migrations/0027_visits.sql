-- Visits counted by the server itself (issue #13, part 9): page views per site, day, page
-- (`home`, `doc:ID`, `column:SLUG`, `other`) and device (`desktop`, `mobile`, `tablet`),
-- and the sites that sent visitors (`referrer`: a host name only). No addresses, no
-- cookies, nothing about who visited. Counted in memory and written every few seconds.
CREATE TABLE visit_counts (
    site_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    page TEXT NOT NULL,
    device TEXT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, page, device)
);
CREATE INDEX visit_counts_day ON visit_counts(day);
CREATE TABLE visit_referrers (
    site_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    referrer TEXT NOT NULL,
    views BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, referrer)
);
