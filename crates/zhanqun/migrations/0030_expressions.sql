-- Wrong and sensitive expressions (错敏词): the web office's list, shared by the editor's
-- check, the submit gate and the monitor.
CREATE TABLE expressions (
    id ID_PK,
    word TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('wrong', 'sensitive', 'forbidden')),
    suggestion TEXT,
    note TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
