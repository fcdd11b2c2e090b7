-- +goose Up
-- The upstream feed's order outcomes page through the timeline events since its mark by
-- (at, id); without an index on at every page scanned the whole timeline (see the PostgreSQL
-- migration of the same number).
CREATE INDEX IF NOT EXISTS timeline_events_feed_by_at ON timeline_events (at, id);

-- +goose Down
DROP INDEX IF EXISTS timeline_events_feed_by_at;
