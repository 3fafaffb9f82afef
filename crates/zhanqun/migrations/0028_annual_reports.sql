-- Each site's annual work report (网站年度报表, 国办函〔2018〕12号) (issue #13, part 10): the
-- figures the platform computed from its own records, what the site's admins changed
-- (`edits`, JSON: item → value), their notes, and when it was published (due by January 31
-- of the next year). Once published it is kept as published.
CREATE TABLE site_annual_reports (
    site_id BIGINT NOT NULL REFERENCES sites(id),
    year BIGINT NOT NULL,
    edits TEXT NOT NULL,
    notes TEXT NOT NULL,
    published_figures TEXT,
    published_at BIGINT,
    published_by TEXT,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, year)
);
