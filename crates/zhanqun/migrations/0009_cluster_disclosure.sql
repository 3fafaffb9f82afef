-- Issue #4, second part: genre and keywords in the catalog metadata, the configurable
-- two-level subject list, reposting across the cluster and the content inventory.
ALTER TABLE disclosures ADD COLUMN genre TEXT;
-- A body's own index-number scheme; NULL is the national default {code}/{yyyy}-{nnnnn}.
ALTER TABLE bodies ADD COLUMN index_scheme TEXT;
ALTER TABLE disclosures ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
-- The catalog reads one table: the document's site, and when it was first published while its
-- live edition is published (NULL otherwise), kept in step by every publish and unpublish.
ALTER TABLE disclosures ADD COLUMN site_id BIGINT REFERENCES sites(id);
ALTER TABLE disclosures ADD COLUMN listed_at BIGINT;
UPDATE disclosures SET site_id = (SELECT site_id FROM documents WHERE documents.id = disclosures.document_id);
UPDATE disclosures SET listed_at = (SELECT doc.first_published_at FROM documents doc JOIN editions e ON e.id = doc.live_edition_id
    WHERE doc.id = disclosures.document_id AND e.state = 'published');
DROP INDEX disclosures_catalog;
-- Bumped in the transaction of every change to what the catalog lists, so a node may keep
-- catalog counts until the number moves (whichever node made the change).
CREATE TABLE catalog_state (id BIGINT PRIMARY KEY, generation BIGINT NOT NULL);
INSERT INTO catalog_state (id, generation) VALUES (1, 0);
-- Covering indexes: a catalog page is counted and found (newest first, in pages) from the
-- index alone, for one site's part or the whole city, whatever the filters.
CREATE INDEX disclosures_catalog_site ON disclosures(site_id, listed_at, document_id, disclosure_mode, issuing_body_id,
    subject, date_written, validity, doc_type, genre);
-- A body's guide and annual reports.
CREATE INDEX disclosures_body_type ON disclosures(issuing_body_id, doc_type);
CREATE INDEX disclosures_catalog_all ON disclosures(listed_at, document_id, disclosure_mode, issuing_body_id,
    subject, date_written, validity, doc_type, genre);

-- 主题分类: first-level categories have no parent; a document's subject is stored as
-- "first" or "first/second". Retired categories stay so old documents keep theirs.
CREATE TABLE subject_categories (
    id ID_PK,
    parent_id BIGINT REFERENCES subject_categories(id),
    name TEXT NOT NULL,
    sort_order BIGINT NOT NULL DEFAULT 0,
    retired BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- Reposting (R9.2): a published document shown on another site, in a named column of that
-- site. The receiving site shows the original itself, so a copy changes or disappears with it.
CREATE TABLE reposts (
    id ID_PK,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    site_id BIGINT NOT NULL REFERENCES sites(id),
    column_id BIGINT NOT NULL REFERENCES columns(id),
    via_site_id BIGINT NOT NULL REFERENCES sites(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT,
    removed_by TEXT,
    UNIQUE (document_id, site_id)
);
CREATE INDEX reposts_column ON reposts(column_id);
CREATE INDEX reposts_site ON reposts(site_id);

-- Content inventory (信息内容清单, R2.3): each kind of information a site releases, its
-- release category, time limit, owner and the column it is released in.
CREATE TABLE inventory_items (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    limit_days BIGINT NOT NULL,
    owner TEXT NOT NULL,
    column_id BIGINT NOT NULL REFERENCES columns(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE INDEX inventory_items_site ON inventory_items(site_id);

-- Occurrences that start the clock of an immediate (即时) item: "published within N working
-- days of the event".
CREATE TABLE inventory_events (
    id ID_PK,
    item_id BIGINT NOT NULL REFERENCES inventory_items(id),
    occurred_on TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inventory_events_item ON inventory_events(item_id);
