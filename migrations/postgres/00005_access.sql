-- +goose Up
-- The Casbin policy lives in the database so that every api process enforces the same rules
-- and administrators can edit them; the columns are those of casbin/gorm-adapter (ptype, v0..v5).
CREATE TABLE casbin_rule (
    id     BIGSERIAL PRIMARY KEY,
    ptype  TEXT NOT NULL DEFAULT '',
    v0     TEXT NOT NULL DEFAULT '',
    v1     TEXT NOT NULL DEFAULT '',
    v2     TEXT NOT NULL DEFAULT '',
    v3     TEXT NOT NULL DEFAULT '',
    v4     TEXT NOT NULL DEFAULT '',
    v5     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX casbin_rule_line ON casbin_rule (ptype, v0, v1, v2, v3, v4, v5);

-- One row: bumped in the same transaction as every policy edit; api processes poll it and
-- reload their enforcer when it moves.
CREATE TABLE casbin_policy_state (
    id          INTEGER PRIMARY KEY,
    revision    BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO casbin_policy_state (id, revision) VALUES (1, 0);

-- Lines of policies/default.csv already written into casbin_rule once: a line shipped by a
-- newer release is added on start, a line an administrator removed stays removed.
CREATE TABLE casbin_default_lines (
    line        TEXT PRIMARY KEY,
    seeded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The acting unit (for auditors' subtree scoping) and the action of each audited request.
ALTER TABLE audit_log ADD COLUMN unit_path TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN action TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_unit_at ON audit_log (unit_path, at);
CREATE INDEX audit_log_login_at ON audit_log (login, at);

-- The audit log is append-only: no UPDATE, DELETE or TRUNCATE, whoever asks.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP INDEX audit_log_login_at;
DROP INDEX audit_log_unit_at;
ALTER TABLE audit_log DROP COLUMN action;
ALTER TABLE audit_log DROP COLUMN unit_path;
DROP TABLE casbin_default_lines;
DROP TABLE casbin_policy_state;
DROP TABLE casbin_rule;
