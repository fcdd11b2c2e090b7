-- +goose Up
-- Idempotency keys of work-order actions (issue 17): the key a caller chose and a fingerprint
-- of the order and action it was first used with, so that the same key sent again with another
-- action or body is refused (422 idempotency_key_reused) instead of silently answering the
-- first action's outcome.
CREATE TABLE idempotency_keys (
    login TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (login, idem_key)
);

-- +goose Down
DROP TABLE idempotency_keys;
