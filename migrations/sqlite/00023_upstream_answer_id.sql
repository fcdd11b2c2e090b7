-- +goose Up
-- Issue 21: the platform's answer to a pushed rating carries its own id for the rating (in the
-- profile's answer_id path); it is kept on the rating's message, so that a correction can be
-- sent as a supplement (补报) that names it.
ALTER TABLE upstream_messages ADD COLUMN answer_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE upstream_messages DROP COLUMN answer_id;
