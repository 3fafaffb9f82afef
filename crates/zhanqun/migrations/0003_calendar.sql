-- Holidays and make-up working days (调休); seeded from crates/domain/data/calendar-cn.csv
-- when this migration runs, then edited by system administrators (every edit audited).
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
