-- +goose Up
-- Rating intake (issue 4).
-- A case whose window intake failed (受理失败) is stored but opens no rating: ratable = false.
-- rating_closes_at is the end of the rating window (policy rating_window, natural days after
-- completion, frozen at registration; NULL when the calendar could not compute it yet — the
-- default-rating job fills it in).
ALTER TABLE service_cases ADD COLUMN ratable BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE service_cases ADD COLUMN rating_closes_at TIMESTAMPTZ;
CREATE INDEX service_cases_window ON service_cases (rating_closes_at) WHERE ratable;

-- kind: first | follow_up | default. Statistics tell default ratings by channel = 'default'
-- (and kind = 'default'); a follow-up (追评) names the first rating it follows (follow_up_of,
-- the row id). evaluator_key identifies the evaluator for "one first rating per case and
-- evaluator": a keyed hash of the ID number or phone, 'anonymous' or 'default'. theme holds a
-- theme-service rating's per-item ratings (JSON, '' for none). device_hash, ip_hash and
-- comment_hash are keyed hashes for fraud detection (never the raw values).
ALTER TABLE evaluations ADD COLUMN kind TEXT NOT NULL DEFAULT 'first';
ALTER TABLE evaluations ADD COLUMN follow_up_of TEXT;
ALTER TABLE evaluations ADD COLUMN evaluator_key TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN theme TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN device_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN ip_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN comment_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE evaluations ADD COLUMN unit_path TEXT NOT NULL DEFAULT '';
CREATE INDEX evaluations_id_hash ON evaluations (evaluator_id_hash, received_at) WHERE evaluator_id_hash <> '';
CREATE INDEX evaluations_phone_recent ON evaluations (evaluator_phone_hash, received_at) WHERE evaluator_phone_hash <> '';
CREATE INDEX evaluations_device ON evaluations (device_hash, received_at) WHERE device_hash <> '';
CREATE INDEX evaluations_ip ON evaluations (ip_hash, received_at) WHERE ip_hash <> '';
CREATE INDEX evaluations_comment ON evaluations (comment_hash, received_at) WHERE comment_hash <> '';
CREATE INDEX evaluations_follow_up ON evaluations (follow_up_of) WHERE follow_up_of IS NOT NULL;

-- One first rating per case and evaluator, enforced by the database so that concurrent
-- submissions by one person cannot both win. Follow-ups take slots 1..limit of the first.
CREATE TABLE evaluation_slots (
    case_no        TEXT NOT NULL REFERENCES service_cases(case_no),
    evaluator_key  TEXT NOT NULL,
    slot           INTEGER NOT NULL,
    evaluation_id  TEXT NOT NULL REFERENCES evaluations(id),
    PRIMARY KEY (case_no, evaluator_key, slot)
);
CREATE INDEX evaluation_slots_evaluation ON evaluation_slots (evaluation_id);

-- Keyed hashes of a staff member's own identity, to flag ratings of a case by its own
-- handling staff. Only hashes: the identity itself is not needed.
CREATE TABLE staff_identities (
    staff_id    TEXT PRIMARY KEY REFERENCES staff(id),
    id_hash     TEXT NOT NULL DEFAULT '',
    phone_hash  TEXT NOT NULL DEFAULT '',
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_identities_id ON staff_identities (id_hash) WHERE id_hash <> '';
CREATE INDEX staff_identities_phone ON staff_identities (phone_hash) WHERE phone_hash <> '';

-- Rating-fraud flags (刷评): a flag never removes or hides the rating; an administrator rules
-- (upheld → the rating is excluded from statistics, dismissed → it stays counted).
CREATE TABLE fraud_flags (
    id             TEXT PRIMARY KEY,
    evaluation_id  TEXT NOT NULL REFERENCES evaluations(id),
    kind           TEXT NOT NULL,
    unit_path      TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open',
    created_at     TIMESTAMPTZ NOT NULL,
    ruled_by       TEXT NOT NULL DEFAULT '',
    ruled_at       TIMESTAMPTZ,
    ruling_note    TEXT NOT NULL DEFAULT '',
    UNIQUE (evaluation_id, kind)
);
CREATE INDEX fraud_flags_scope ON fraud_flags (unit_path text_pattern_ops, status, created_at);

-- Every unmasked read of personal data: who, when, why. Append-only.
CREATE TABLE pii_access_log (
    id             TEXT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    login          TEXT NOT NULL,
    role           TEXT NOT NULL,
    unit_path      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    work_order_id  TEXT NOT NULL DEFAULT '',
    fields         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    request_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pii_access_log_scope ON pii_access_log (unit_path text_pattern_ops, at);

-- +goose Down
DROP TABLE pii_access_log;
DROP TABLE fraud_flags;
DROP TABLE staff_identities;
DROP TABLE evaluation_slots;
DROP INDEX evaluations_follow_up;
DROP INDEX evaluations_comment;
DROP INDEX evaluations_ip;
DROP INDEX evaluations_device;
DROP INDEX evaluations_phone_recent;
DROP INDEX evaluations_id_hash;
ALTER TABLE evaluations DROP COLUMN unit_path;
ALTER TABLE evaluations DROP COLUMN comment_hash;
ALTER TABLE evaluations DROP COLUMN ip_hash;
ALTER TABLE evaluations DROP COLUMN device_hash;
ALTER TABLE evaluations DROP COLUMN theme;
ALTER TABLE evaluations DROP COLUMN evaluator_key;
ALTER TABLE evaluations DROP COLUMN follow_up_of;
ALTER TABLE evaluations DROP COLUMN kind;
DROP INDEX service_cases_window;
ALTER TABLE service_cases DROP COLUMN rating_closes_at;
ALTER TABLE service_cases DROP COLUMN ratable;
