-- +goose Up
-- Event identity (issue 16, finding 3): a timeline event is keyed by workflow, RUN and sequence
-- number. After an operator resets a workflow, the new run numbers its events again from the
-- reset point: its events are stored beside the old run's, which they supersede (kept for the
-- record, no longer shown). content_hash lets a repeated write of the same key (a retried
-- local activity) be told from a different event under that key, which fails loudly.
ALTER TABLE timeline_events ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE timeline_events ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE timeline_events ADD COLUMN superseded BOOLEAN NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE timeline_events DROP COLUMN superseded;
ALTER TABLE timeline_events DROP COLUMN content_hash;
ALTER TABLE timeline_events DROP COLUMN run_id;
