-- Online interviews (在线访谈): guests, questions from the public before and during, moderated;
-- when it ends, the transcript becomes a draft document that goes through the review workflow.
CREATE TABLE interviews (
    id ID_PK,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    title TEXT NOT NULL,
    guests TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ended_at BIGINT,
    transcript_document_id BIGINT REFERENCES documents(id),
    created_by BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE interview_questions (
    id ID_PK,
    interview_id BIGINT NOT NULL REFERENCES interviews(id),
    author_name TEXT NOT NULL,
    author_contact TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX interview_questions_status ON interview_questions(interview_id, status);

-- Files a citizen attaches to a letter (checked by content like document attachments).
CREATE TABLE letter_attachments (
    id ID_PK,
    letter_id BIGINT NOT NULL REFERENCES letters(id),
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX letter_attachments_letter ON letter_attachments(letter_id);
