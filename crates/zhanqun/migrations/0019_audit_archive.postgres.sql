CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.id <= (SELECT through_id FROM audit_archived WHERE id = 1) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE FUNCTION audit_archived_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.through_id >= OLD.through_id AND NEW.through_seq >= OLD.through_seq THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_archived only moves forward';
END
$$;
CREATE TRIGGER audit_archived_forward BEFORE UPDATE OR DELETE ON audit_archived
    FOR EACH ROW EXECUTE FUNCTION audit_archived_forward();
CREATE TRIGGER audit_archived_no_truncate BEFORE TRUNCATE ON audit_archived
    FOR EACH STATEMENT EXECUTE FUNCTION audit_archived_forward();
