-- +goose NO TRANSACTION
-- The upstream feed's order outcomes (upstream/feed.go) page through the timeline events since
-- its mark, by (at, id). timeline_events had no index on at: every page was a sequential scan
-- of the whole timeline, which grows by every event of every order (at 1 M events, 0.4-0.66 s a
-- page, about every half second beside the scale point's pages: BENCHMARKS.md, point 9, eighth
-- sitting). This index gives the range and the order.
--
-- Built CONCURRENTLY, so that the workflows' writes of events never wait on it; an interrupted
-- build leaves an invalid index that IF NOT EXISTS would keep, so such a one is dropped first
-- (as in 00025).
-- +goose Up
-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('timeline_events_feed_by_at') AND NOT indisvalid) THEN
        DROP INDEX timeline_events_feed_by_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS timeline_events_feed_by_at ON timeline_events (at, id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS timeline_events_feed_by_at;
