DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.id > (SELECT through_id FROM audit_archived WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_archived_no_delete BEFORE DELETE ON audit_archived
BEGIN SELECT RAISE(ABORT, 'audit_archived only moves forward'); END;
CREATE TRIGGER audit_archived_forward BEFORE UPDATE ON audit_archived
WHEN NEW.id <> OLD.id OR NEW.through_id < OLD.through_id OR NEW.through_seq < OLD.through_seq
BEGIN SELECT RAISE(ABORT, 'audit_archived only moves forward'); END;
