-- +goose Up
-- Which staff member has read which message of their notification inbox (the UI's notification
-- centre: unread count, mark read). One row per reader and message; a message never read has none.
CREATE TABLE notification_reads (
    login       TEXT NOT NULL,
    message_id  TEXT NOT NULL REFERENCES notification_inbox(id),
    read_at     DATETIME NOT NULL,
    PRIMARY KEY (login, message_id)
);

-- +goose Down
DROP TABLE notification_reads;
