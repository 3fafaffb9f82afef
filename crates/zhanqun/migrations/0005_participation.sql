-- Consultations on drafts (意见征集), surveys (网上调查) and letter reminders.
CREATE TABLE consultations (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    title TEXT NOT NULL,
    draft TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    feedback TEXT,
    feedback_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE consultation_comments (
    id ID_PK,
    consultation_id BIGINT NOT NULL REFERENCES consultations(id),
    paragraph BIGINT,
    author_name TEXT NOT NULL,
    author_contact TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    moderated_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX consultation_comments_status ON consultation_comments(consultation_id, status);

CREATE TABLE surveys (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    title TEXT NOT NULL,
    intro TEXT NOT NULL,
    questions TEXT NOT NULL,
    require_contact BIGINT NOT NULL DEFAULT 0,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE survey_responses (
    id ID_PK,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    voter_hash TEXT NOT NULL,
    answers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (survey_id, voter_hash)
);

CREATE TABLE letter_reminders (
    letter_id BIGINT NOT NULL REFERENCES letters(id),
    kind TEXT NOT NULL,
    day TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (letter_id, kind, day)
);
