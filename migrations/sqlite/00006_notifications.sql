-- +goose Up
-- The notifications outbox: a row is written in the same transaction as the timeline event that
-- causes it, keyed by event id + recipient, so a replayed or retried event enqueues nothing
-- twice. The dispatcher sends due rows, retries with back-off and parks them as dead after the
-- last attempt; an administrator can send a dead one again.
CREATE TABLE notifications (
    id               TEXT PRIMARY KEY,
    work_order_id    TEXT NOT NULL REFERENCES work_orders(id),
    event_id         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    recipient_kind   TEXT NOT NULL,
    unit_path        TEXT NOT NULL DEFAULT '',
    role             TEXT NOT NULL DEFAULT '',
    template         TEXT NOT NULL,
    params           TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DATETIME NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    sent_at          DATETIME
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_order ON notifications (work_order_id);

-- Every delivery attempt, for audit and for the dead-letter view.
CREATE TABLE notification_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  TEXT NOT NULL REFERENCES notifications(id),
    at               DATETIME NOT NULL,
    sender           TEXT NOT NULL,
    ok               BOOLEAN NOT NULL,
    error            TEXT NOT NULL DEFAULT '',
    duration_ms      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notification_attempts_notification ON notification_attempts (notification_id);

-- Messages delivered by the local sender (in-system messages to staff; in redress dev also the
-- evaluator's SMS), which the UI lists. One row per notification, whatever the retries.
CREATE TABLE notification_inbox (
    id               TEXT PRIMARY KEY REFERENCES notifications(id),
    work_order_id    TEXT NOT NULL,
    channel          TEXT NOT NULL,
    recipient_kind   TEXT NOT NULL,
    unit_path        TEXT NOT NULL DEFAULT '',
    role             TEXT NOT NULL DEFAULT '',
    address          TEXT NOT NULL DEFAULT '',
    template         TEXT NOT NULL,
    body             TEXT NOT NULL,
    received_at      DATETIME NOT NULL
);
CREATE INDEX notification_inbox_unit ON notification_inbox (unit_path, received_at);

-- Tracking links sent to evaluators with the outcome: only the token's hash is kept.
CREATE TABLE tracking_tokens (
    token_hash     TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES work_orders(id),
    event_id       TEXT NOT NULL UNIQUE,
    created_at     DATETIME NOT NULL
);
CREATE INDEX tracking_tokens_order ON tracking_tokens (work_order_id, created_at);

-- +goose Down
DROP TABLE tracking_tokens;
DROP TABLE notification_inbox;
DROP TABLE notification_attempts;
DROP TABLE notifications;
