-- +goose Up
-- Evidence of rectification (issue 18): photos and PDFs an officer or unit leader attaches to a
-- rectifying order's progress or completion, stored with the order (bounded in size by the API)
-- and shown to the staff who may see the order (the reviewer and the auditor among them), never
-- to the public.
CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES work_orders(id),
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    content        BYTEA NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_order ON attachments (work_order_id, created_at);

-- +goose Down
DROP TABLE attachments;
