-- Personal data sealed at rest (kernel/personal.rs): contacts are no longer comparable in
-- SQL, so the per-contact limit and import's duplicate check use a keyed hash of the
-- normalised contact (filled at start-up for letters written before).
ALTER TABLE letters ADD COLUMN writer_contact_index TEXT;
DROP INDEX letters_contact;
CREATE INDEX letters_contact_index ON letters(writer_contact_index, created_at);
