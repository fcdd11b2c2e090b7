-- +goose Up
-- Evidence of rectification (issue 18): photos and PDFs attached to a rectifying order's
-- progress or completion, stored with the order, shown to staff only (see postgres/).
CREATE TABLE attachments (
    id             TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES work_orders(id),
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    content        BLOB NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     DATETIME NOT NULL
);
CREATE INDEX attachments_order ON attachments (work_order_id, created_at);

-- +goose Down
DROP TABLE attachments;
