-- +goose NO TRANSACTION
-- A theme-service rating whose bad items belong to several units opens one work order per unit
-- (issue 15: 谁办理、谁负责, each bad item opens or joins an order at its own unit), so one
-- evaluation may now have several orders: work_orders.evaluation_id loses its UNIQUE.
-- SQLite cannot drop a column's UNIQUE, so the table is rebuilt (SQLite's documented
-- procedure: new table, copy, drop, rename, indexes). Foreign keys are switched off around it —
-- the rows of timeline_events, notifications, tracking_tokens and the hotline tables point at
-- work_orders while it is dropped — which SQLite allows only outside a transaction, hence NO
-- TRANSACTION (goose runs it on one connection) with a transaction of its own inside.
-- The columns are those of 00001 and 00019 (deadline_error); a migration that adds a column to
-- work_orders before this one must add it here too (TestSchemasMatch fails otherwise).
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE work_orders_new (
    id                 TEXT PRIMARY KEY,
    evaluation_id      TEXT NOT NULL REFERENCES evaluations(id),
    workflow_id        TEXT NOT NULL UNIQUE,
    workflow_started   BOOLEAN NOT NULL DEFAULT 0,
    state              TEXT NOT NULL,
    disposition        TEXT NOT NULL DEFAULT '',
    unit_id            BIGINT REFERENCES units(id),
    unit_path          TEXT NOT NULL DEFAULT '',
    staff_id           TEXT,
    case_nos           TEXT NOT NULL,
    overall            TEXT NOT NULL,
    levels             TEXT NOT NULL,
    comment            TEXT NOT NULL DEFAULT '',
    opened_at          DATETIME NOT NULL,
    dispatched_at      DATETIME,
    next_due_at        DATETIME,
    supervision_level  INTEGER NOT NULL DEFAULT 0,
    overdue_days       INTEGER NOT NULL DEFAULT 0,
    deadlines          TEXT NOT NULL DEFAULT '[]',
    version            INTEGER NOT NULL DEFAULT 0,
    updated_at         DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deadline_error     TEXT NOT NULL DEFAULT ''
);
INSERT INTO work_orders_new (id, evaluation_id, workflow_id, workflow_started, state, disposition, unit_id, unit_path, staff_id,
    case_nos, overall, levels, comment, opened_at, dispatched_at, next_due_at, supervision_level, overdue_days, deadlines, version, updated_at, deadline_error)
SELECT id, evaluation_id, workflow_id, workflow_started, state, disposition, unit_id, unit_path, staff_id,
    case_nos, overall, levels, comment, opened_at, dispatched_at, next_due_at, supervision_level, overdue_days, deadlines, version, updated_at, deadline_error
  FROM work_orders;
DROP TABLE work_orders;
ALTER TABLE work_orders_new RENAME TO work_orders;
CREATE INDEX work_orders_inbox ON work_orders (unit_path, state, next_due_at);
CREATE INDEX work_orders_unstarted ON work_orders (opened_at) WHERE NOT workflow_started;
CREATE INDEX work_orders_updated_at ON work_orders (updated_at);
CREATE INDEX work_orders_opened_at ON work_orders (opened_at);
CREATE INDEX work_orders_due ON work_orders (next_due_at, opened_at, id);
CREATE INDEX work_orders_evaluation ON work_orders (evaluation_id);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE work_orders_new (
    id                 TEXT PRIMARY KEY,
    evaluation_id      TEXT NOT NULL UNIQUE REFERENCES evaluations(id),
    workflow_id        TEXT NOT NULL UNIQUE,
    workflow_started   BOOLEAN NOT NULL DEFAULT 0,
    state              TEXT NOT NULL,
    disposition        TEXT NOT NULL DEFAULT '',
    unit_id            BIGINT REFERENCES units(id),
    unit_path          TEXT NOT NULL DEFAULT '',
    staff_id           TEXT,
    case_nos           TEXT NOT NULL,
    overall            TEXT NOT NULL,
    levels             TEXT NOT NULL,
    comment            TEXT NOT NULL DEFAULT '',
    opened_at          DATETIME NOT NULL,
    dispatched_at      DATETIME,
    next_due_at        DATETIME,
    supervision_level  INTEGER NOT NULL DEFAULT 0,
    overdue_days       INTEGER NOT NULL DEFAULT 0,
    deadlines          TEXT NOT NULL DEFAULT '[]',
    version            INTEGER NOT NULL DEFAULT 0,
    updated_at         DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deadline_error     TEXT NOT NULL DEFAULT ''
);
INSERT INTO work_orders_new (id, evaluation_id, workflow_id, workflow_started, state, disposition, unit_id, unit_path, staff_id,
    case_nos, overall, levels, comment, opened_at, dispatched_at, next_due_at, supervision_level, overdue_days, deadlines, version, updated_at, deadline_error)
SELECT id, evaluation_id, workflow_id, workflow_started, state, disposition, unit_id, unit_path, staff_id,
    case_nos, overall, levels, comment, opened_at, dispatched_at, next_due_at, supervision_level, overdue_days, deadlines, version, updated_at, deadline_error
  FROM work_orders;
DROP TABLE work_orders;
ALTER TABLE work_orders_new RENAME TO work_orders;
CREATE INDEX work_orders_inbox ON work_orders (unit_path, state, next_due_at);
CREATE INDEX work_orders_unstarted ON work_orders (opened_at) WHERE NOT workflow_started;
CREATE INDEX work_orders_updated_at ON work_orders (updated_at);
CREATE INDEX work_orders_opened_at ON work_orders (opened_at);
CREATE INDEX work_orders_due ON work_orders (next_due_at, opened_at, id);
COMMIT;
PRAGMA foreign_keys = ON;
