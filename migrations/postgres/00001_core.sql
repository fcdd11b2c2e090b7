-- +goose Up
CREATE TABLE units (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'department',
    parent_id   BIGINT REFERENCES units(id),
    path        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX units_path_prefix ON units (path text_pattern_ops);

CREATE TABLE staff (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    login       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE role_assignments (
    id       BIGSERIAL PRIMARY KEY,
    user_id  BIGINT NOT NULL REFERENCES users(id),
    role     TEXT NOT NULL,
    unit_id  BIGINT NOT NULL REFERENCES units(id),
    UNIQUE (user_id, role, unit_id)
);

CREATE TABLE policies (
    id          BIGSERIAL PRIMARY KEY,
    unit_id     BIGINT NOT NULL UNIQUE REFERENCES units(id),
    doc         TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE service_cases (
    id                   TEXT PRIMARY KEY,
    case_no              TEXT NOT NULL UNIQUE,
    item_code            TEXT NOT NULL,
    item_name            TEXT NOT NULL,
    unit_id              BIGINT NOT NULL REFERENCES units(id),
    staff_id             TEXT,
    channel              TEXT NOT NULL,
    completed_at         TIMESTAMPTZ NOT NULL,
    applicant_name       TEXT NOT NULL DEFAULT '',
    applicant_phone      TEXT NOT NULL DEFAULT '',
    applicant_id_number  TEXT NOT NULL DEFAULT '',
    applicant_id_hash    TEXT NOT NULL DEFAULT '',
    content_hash         TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX service_cases_unit ON service_cases (unit_id, completed_at);

CREATE TABLE evaluations (
    id                    TEXT PRIMARY KEY,
    evaluation_id         TEXT NOT NULL UNIQUE,
    channel               TEXT NOT NULL,
    overall               TEXT NOT NULL,
    levels                TEXT NOT NULL,
    bad                   BOOLEAN NOT NULL,
    tags                  TEXT NOT NULL DEFAULT '[]',
    comment               TEXT NOT NULL DEFAULT '',
    rated_at              TIMESTAMPTZ NOT NULL,
    received_at           TIMESTAMPTZ NOT NULL,
    evaluator_name        TEXT NOT NULL DEFAULT '',
    evaluator_phone       TEXT NOT NULL DEFAULT '',
    evaluator_id_number   TEXT NOT NULL DEFAULT '',
    evaluator_phone_hash  TEXT NOT NULL DEFAULT '',
    evaluator_id_hash     TEXT NOT NULL DEFAULT '',
    request_hash          TEXT NOT NULL,
    work_order_id         TEXT
);
CREATE INDEX evaluations_phone_hash ON evaluations (evaluator_phone_hash) WHERE evaluator_phone_hash <> '';

CREATE TABLE evaluation_cases (
    evaluation_id  TEXT NOT NULL REFERENCES evaluations(id),
    case_no        TEXT NOT NULL REFERENCES service_cases(case_no),
    PRIMARY KEY (evaluation_id, case_no)
);
CREATE INDEX evaluation_cases_case ON evaluation_cases (case_no);

CREATE TABLE work_orders (
    id                 TEXT PRIMARY KEY,
    evaluation_id      TEXT NOT NULL UNIQUE REFERENCES evaluations(id),
    workflow_id        TEXT NOT NULL UNIQUE,
    workflow_started   BOOLEAN NOT NULL DEFAULT false,
    state              TEXT NOT NULL,
    disposition        TEXT NOT NULL DEFAULT '',
    unit_id            BIGINT REFERENCES units(id),
    unit_path          TEXT NOT NULL DEFAULT '',
    staff_id           TEXT,
    case_nos           TEXT NOT NULL,
    overall            TEXT NOT NULL,
    levels             TEXT NOT NULL,
    comment            TEXT NOT NULL DEFAULT '',
    opened_at          TIMESTAMPTZ NOT NULL,
    dispatched_at      TIMESTAMPTZ,
    next_due_at        TIMESTAMPTZ,
    supervision_level  INTEGER NOT NULL DEFAULT 0,
    overdue_days       INTEGER NOT NULL DEFAULT 0,
    deadlines          TEXT NOT NULL DEFAULT '[]',
    version            INTEGER NOT NULL DEFAULT 0,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX work_orders_inbox ON work_orders (unit_path text_pattern_ops, state, next_due_at);
CREATE INDEX work_orders_unstarted ON work_orders (opened_at) WHERE NOT workflow_started;

CREATE TABLE timeline_events (
    id             TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES work_orders(id),
    seq            INTEGER NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,
    type           TEXT NOT NULL,
    data           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_events_order ON timeline_events (work_order_id, seq);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    request_id  TEXT NOT NULL,
    login       TEXT NOT NULL,
    roles       TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    target      TEXT NOT NULL,
    status      INTEGER NOT NULL,
    outcome     TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE timeline_events;
DROP TABLE work_orders;
DROP TABLE evaluation_cases;
DROP TABLE evaluations;
DROP TABLE service_cases;
DROP TABLE policies;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE staff;
DROP TABLE units;
