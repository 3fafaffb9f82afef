-- The monitor's daily checks (issue #13). Sites of the cluster are checked by their own
-- rows in `sites`; sites outside it (not yet migrated, or run by others) are added here.
CREATE TABLE monitor_targets (
    id ID_PK,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX monitor_targets_url ON monitor_targets(url);

-- One finished check of one site: who (a cluster site or an external target), what it
-- found in figures, and the whole report as JSON (vetoes, deductions, findings with
-- their evidence). A check killed halfway leaves no row; its job runs it again.
-- `score_tenths`: the 100-point score ×10 (NULL when the site could not be read);
-- `indicators`: the vetoed indicators, comma-separated.
CREATE TABLE monitor_runs (
    id ID_PK,
    site_id BIGINT REFERENCES sites(id),
    target_id BIGINT REFERENCES monitor_targets(id),
    url TEXT NOT NULL,
    day TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    score_tenths BIGINT,
    vetoes BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    findings BIGINT NOT NULL,
    pages BIGINT NOT NULL,
    indicators TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX monitor_runs_site ON monitor_runs(site_id, finished_at);
CREATE INDEX monitor_runs_target ON monitor_runs(target_id, finished_at);
CREATE INDEX monitor_runs_day ON monitor_runs(day);

-- Probes of home pages through the day (≥ 20 a day), on which availability over the past
-- week is judged.
CREATE TABLE monitor_probes (
    id ID_PK,
    site_id BIGINT REFERENCES sites(id),
    target_id BIGINT REFERENCES monitor_targets(id),
    at BIGINT NOT NULL,
    ok BIGINT NOT NULL,
    ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX monitor_probes_site ON monitor_probes(site_id, at);
CREATE INDEX monitor_probes_target ON monitor_probes(target_id, at);

-- Rectification notices (R11.1): a problem a run found on a site of the cluster, sent to
-- the site's admins with a deadline in working days. `state`: `open` (sent), `answered`
-- (the site says it is fixed; the next run decides), `closed` (a later run no longer finds
-- it: `checked_run_id`), `escalated` (past its deadline and still found, or unanswered:
-- on the city's overview). Every step is in the audit trail too.
CREATE TABLE monitor_notices (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    run_id BIGINT NOT NULL REFERENCES monitor_runs(id),
    problem TEXT NOT NULL,
    found TEXT NOT NULL,
    request TEXT NOT NULL,
    working_days BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    state TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    answered_at BIGINT,
    checked_run_id BIGINT REFERENCES monitor_runs(id),
    checked_note TEXT,
    closed_at BIGINT,
    escalated_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX monitor_notices_site ON monitor_notices(site_id, state);
CREATE INDEX monitor_notices_state ON monitor_notices(state, due_on);
