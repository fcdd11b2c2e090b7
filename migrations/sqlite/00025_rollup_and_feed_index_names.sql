-- +goose Up
-- The five indexes of 00008 (recreated for work_orders by 00021) named for the queries they
-- serve: the statistics rollup (stats/rollup.go) and the upstream feed (upstream/feed.go); see
-- the PostgreSQL migration of the same number. SQLite builds an index inside the migration's
-- transaction and has no concurrent form: create the new name, drop the old.
CREATE INDEX IF NOT EXISTS evaluations_rollup_by_rated_at ON evaluations (rated_at);
DROP INDEX IF EXISTS evaluations_rated_at;
CREATE INDEX IF NOT EXISTS evaluations_rollup_and_feed_by_received_at ON evaluations (received_at);
DROP INDEX IF EXISTS evaluations_received_at;
CREATE INDEX IF NOT EXISTS evaluations_rollup_and_feed_by_excluded_at ON evaluations (excluded_at) WHERE excluded_at IS NOT NULL;
DROP INDEX IF EXISTS evaluations_excluded_at;
CREATE INDEX IF NOT EXISTS work_orders_rollup_by_updated_at ON work_orders (updated_at);
DROP INDEX IF EXISTS work_orders_updated_at;
CREATE INDEX IF NOT EXISTS work_orders_rollup_by_opened_at ON work_orders (opened_at);
DROP INDEX IF EXISTS work_orders_opened_at;

-- +goose Down
CREATE INDEX IF NOT EXISTS work_orders_opened_at ON work_orders (opened_at);
DROP INDEX IF EXISTS work_orders_rollup_by_opened_at;
CREATE INDEX IF NOT EXISTS work_orders_updated_at ON work_orders (updated_at);
DROP INDEX IF EXISTS work_orders_rollup_by_updated_at;
CREATE INDEX IF NOT EXISTS evaluations_excluded_at ON evaluations (excluded_at) WHERE excluded_at IS NOT NULL;
DROP INDEX IF EXISTS evaluations_rollup_and_feed_by_excluded_at;
CREATE INDEX IF NOT EXISTS evaluations_received_at ON evaluations (received_at);
DROP INDEX IF EXISTS evaluations_rollup_and_feed_by_received_at;
CREATE INDEX IF NOT EXISTS evaluations_rated_at ON evaluations (rated_at);
DROP INDEX IF EXISTS evaluations_rollup_by_rated_at;
