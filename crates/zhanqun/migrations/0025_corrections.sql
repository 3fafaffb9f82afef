-- 我为政府网站找错 (issue #13, part 7): what the public reports on a site, from the site's
-- form (`source` = 'site') or forwarded from the national platform ('national', with its
-- number in `external_id`), answered within 3 working days (`due_on`). No personal data:
-- the citizen keeps a query code, of which only the hash is stored.
CREATE TABLE error_reports (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    source TEXT NOT NULL,
    external_id TEXT,
    code_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    page_url TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    received_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    reply TEXT,
    replied_by TEXT,
    replied_at BIGINT,
    replied_on TEXT,
    on_time BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX error_reports_external ON error_reports(source, external_id);
CREATE INDEX error_reports_site ON error_reports(site_id, state);

-- Duty reading (值班读网, R2.4): who reads the site on a day, and what they recorded.
-- Readings are kept as written; a correction is another reading.
CREATE TABLE duty_roster (
    site_id BIGINT NOT NULL REFERENCES sites(id),
    day TEXT NOT NULL,
    reader TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, day)
);
CREATE TABLE duty_readings (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    day TEXT NOT NULL,
    reader TEXT NOT NULL,
    pages_read TEXT NOT NULL,
    problems TEXT NOT NULL,
    actions TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX duty_readings_site_day ON duty_readings(site_id, day);
