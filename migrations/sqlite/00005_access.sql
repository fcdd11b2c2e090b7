-- +goose Up
-- The Casbin policy lives in the database so that every api process enforces the same rules
-- and administrators can edit them; the columns are those of casbin/gorm-adapter (ptype, v0..v5).
CREATE TABLE casbin_rule (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
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
    updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO casbin_policy_state (id, revision) VALUES (1, 0);

-- Lines of policies/default.csv already written into casbin_rule once: a line shipped by a
-- newer release is added on start, a line an administrator removed stays removed.
CREATE TABLE casbin_default_lines (
    line        TEXT PRIMARY KEY,
    seeded_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The acting unit (for auditors' subtree scoping) and the action of each audited request.
ALTER TABLE audit_log ADD COLUMN unit_path TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN action TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_unit_at ON audit_log (unit_path, at);
CREATE INDEX audit_log_login_at ON audit_log (login, at);

-- The audit log is append-only.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP INDEX audit_log_login_at;
DROP INDEX audit_log_unit_at;
ALTER TABLE audit_log DROP COLUMN action;
ALTER TABLE audit_log DROP COLUMN unit_path;
DROP TABLE casbin_default_lines;
DROP TABLE casbin_policy_state;
DROP TABLE casbin_rule;
