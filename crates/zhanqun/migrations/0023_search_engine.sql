-- Site search's engine (issue #12).
-- What was searched, per site (the portal's id for city-wide searches), day and query, and
-- how often it found nothing: hot searches and the report of searches without results.
-- Only the query text, never who asked.
CREATE TABLE search_queries (
    site_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    searches BIGINT NOT NULL,
    empty BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, query)
);
CREATE INDEX search_queries_day ON search_queries(day);
-- The web office's hot searches, shown under every search box before the most frequent.
CREATE TABLE search_hot (
    id ID_PK,
    term TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO search_hot (term, position, created_by, created_at) VALUES
    ('义务教育入学', 0, '平台预置', 0),
    ('政府信息公开', 1, '平台预置', 0),
    ('医保', 2, '平台预置', 0),
    ('公积金', 3, '平台预置', 0);
-- How far the outbox has been pruned: a node's search index that stops before this point
-- has missed events and is rebuilt from the database.
CREATE TABLE outbox_horizon (
    id BIGINT PRIMARY KEY,
    tx_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL
);
INSERT INTO outbox_horizon (id, tx_id, event_id) VALUES (1, 0, 0);
