-- +goose Up
-- Daily rollups of the ratings, one row per Asia/Shanghai day of rated_at and per dimension
-- value (dim 'unit', 'staff', 'item' or 'channel'; dim_key the unit code, staff id, item code
-- or channel) within a unit. A rating of several cases counts once per distinct value of each
-- dimension. Columns a_* count active ratings by overall level, d_* the system's default
-- ratings; excluded counts ratings not adopted after an upheld appeal (left out of a_*/d_*).
-- The rollup job recomputes whole days (delete + insert in one transaction), so it is
-- idempotent and a day's rows always equal the raw ratings of that day.
CREATE TABLE stats_ratings_daily (
    day        TEXT NOT NULL,
    dim        TEXT NOT NULL,
    dim_key    TEXT NOT NULL,
    unit_id    BIGINT NOT NULL,
    unit_path  TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    a_vs       INTEGER NOT NULL DEFAULT 0,
    a_s        INTEGER NOT NULL DEFAULT 0,
    a_bs       INTEGER NOT NULL DEFAULT 0,
    a_d        INTEGER NOT NULL DEFAULT 0,
    a_vd       INTEGER NOT NULL DEFAULT 0,
    d_vs       INTEGER NOT NULL DEFAULT 0,
    d_s        INTEGER NOT NULL DEFAULT 0,
    d_bs       INTEGER NOT NULL DEFAULT 0,
    d_d        INTEGER NOT NULL DEFAULT 0,
    d_vd       INTEGER NOT NULL DEFAULT 0,
    bad        INTEGER NOT NULL DEFAULT 0,
    excluded   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dim, dim_key, unit_id)
);
CREATE INDEX stats_ratings_daily_scope ON stats_ratings_daily (dim, unit_path text_pattern_ops, day);

-- Daily rollups of the work orders, by the day the order was opened and the unit responsible
-- for it now (the administration's queue while it waits for dispatch), derived from each
-- order's timeline.
CREATE TABLE stats_orders_daily (
    day                    TEXT NOT NULL,
    unit_id                BIGINT NOT NULL,
    unit_path              TEXT NOT NULL,
    orders                 INTEGER NOT NULL DEFAULT 0,
    real_name              INTEGER NOT NULL DEFAULT 0,
    called_back            INTEGER NOT NULL DEFAULT 0,
    called_back_real_name  INTEGER NOT NULL DEFAULT 0,
    rectified              INTEGER NOT NULL DEFAULT 0,
    explained              INTEGER NOT NULL DEFAULT 0,
    appealed               INTEGER NOT NULL DEFAULT 0,
    upheld                 INTEGER NOT NULL DEFAULT 0,
    rejected               INTEGER NOT NULL DEFAULT 0,
    closed                 INTEGER NOT NULL DEFAULT 0,
    on_time                INTEGER NOT NULL DEFAULT 0,
    overdue                INTEGER NOT NULL DEFAULT 0,
    overdue_days           INTEGER NOT NULL DEFAULT 0,
    supervised             INTEGER NOT NULL DEFAULT 0,
    handled                INTEGER NOT NULL DEFAULT 0,
    handling_days          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit_id)
);
CREATE INDEX stats_orders_daily_scope ON stats_orders_daily (unit_path text_pattern_ops, day);

-- High-water marks of the background jobs (stats rollup, upstream feeds): each run re-reads a
-- safety window before its mark, and every write it makes is idempotent.
CREATE TABLE job_marks (
    name        TEXT PRIMARY KEY,
    mark        TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Published monthly results (公开) of a jurisdiction: frozen figures, one row per version; a
-- correction adds a version, old versions stay.
CREATE TABLE publications (
    id            BIGSERIAL PRIMARY KEY,
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    unit_path     TEXT NOT NULL,
    month         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    figures       TEXT NOT NULL,
    UNIQUE (unit_id, month, version)
);
CREATE INDEX publications_month ON publications (month, unit_id, version);

-- Monthly reports (定期报告) as files. A scheduled report is made once per jurisdiction and
-- month (the partial unique index makes a repeated schedule run a no-op).
CREATE TABLE reports (
    id            TEXT PRIMARY KEY,
    unit_id       BIGINT NOT NULL REFERENCES units(id),
    unit_path     TEXT NOT NULL,
    month         TEXT NOT NULL,
    trigger       TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    content       BYTEA NOT NULL
);
CREATE UNIQUE INDEX reports_scheduled ON reports (unit_id, month) WHERE trigger = 'schedule';
CREATE INDEX reports_scope ON reports (unit_path text_pattern_ops, created_at);

-- Outgoing messages to the provincial/national platform and to 12345, keyed by an idempotency
-- key that the receiver sees too. Delivered with retries and back-off; a message that cannot
-- be delivered is parked as dead until someone sends it again.
CREATE TABLE upstream_messages (
    id               TEXT PRIMARY KEY,
    target           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    unit_path        TEXT NOT NULL DEFAULT '',
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    lease_until      TIMESTAMPTZ,
    last_error       TEXT NOT NULL DEFAULT '',
    last_status      INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
CREATE INDEX upstream_messages_due ON upstream_messages (status, next_attempt_at);
CREATE INDEX upstream_messages_scope ON upstream_messages (status, unit_path text_pattern_ops);

CREATE TABLE upstream_attempts (
    id           BIGSERIAL PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES upstream_messages(id),
    at           TIMESTAMPTZ NOT NULL,
    ok           BOOLEAN NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    duration_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX upstream_attempts_message ON upstream_attempts (message_id);

-- Work orders forwarded to a 12345 platform, and the results it sent back (each result once,
-- by the platform's result id).
CREATE TABLE hotline_tickets (
    work_order_id  TEXT PRIMARY KEY REFERENCES work_orders(id),
    message_id     TEXT NOT NULL,
    unit_path      TEXT NOT NULL DEFAULT '',
    forwarded_by   TEXT NOT NULL,
    forwarded_at   TIMESTAMPTZ NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    external_id    TEXT NOT NULL DEFAULT '',
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE hotline_results (
    result_id      TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES work_orders(id),
    external_id    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    result         TEXT NOT NULL DEFAULT '',
    body_hash      TEXT NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX hotline_results_order ON hotline_results (work_order_id, received_at);

-- +goose Down
DROP TABLE hotline_results;
DROP TABLE hotline_tickets;
DROP TABLE upstream_attempts;
DROP TABLE upstream_messages;
DROP TABLE reports;
DROP TABLE publications;
DROP TABLE job_marks;
DROP TABLE stats_orders_daily;
DROP TABLE stats_ratings_daily;
