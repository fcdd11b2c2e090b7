-- +goose NO TRANSACTION
-- The five indexes of 00008 were named after their columns and introduced as "the benchmark's";
-- they serve the statistics rollup (stats/rollup.go: a day recomputed by rated_at, changed
-- ratings found by received_at / excluded_at, changed orders by updated_at / opened_at) and the
-- upstream feed (upstream/feed.go: ratings paged by received_at, exclusions by excluded_at).
-- This names them for those queries. Each new index is built CONCURRENTLY before the old one is
-- dropped CONCURRENTLY, so writes to evaluations and work_orders never wait on the build of an
-- index over millions of rows and the queries always have one of the two; CONCURRENTLY cannot
-- run in a transaction, hence NO TRANSACTION (goose then runs each statement on its own).
--
-- A rerun after an interruption is safe: IF NOT EXISTS / IF EXISTS skip what is done. A
-- concurrent build that was interrupted leaves its index behind marked invalid, which IF NOT
-- EXISTS would then keep; so an invalid index of the new name is dropped first (a plain DROP,
-- which only ever happens after such a failure, and an invalid index is never used by a query).
-- +goose Up
-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_rollup_by_rated_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_rollup_by_rated_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_rollup_by_rated_at ON evaluations (rated_at);
DROP INDEX CONCURRENTLY IF EXISTS evaluations_rated_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_rollup_and_feed_by_received_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_rollup_and_feed_by_received_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_rollup_and_feed_by_received_at ON evaluations (received_at);
DROP INDEX CONCURRENTLY IF EXISTS evaluations_received_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_rollup_and_feed_by_excluded_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_rollup_and_feed_by_excluded_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_rollup_and_feed_by_excluded_at ON evaluations (excluded_at) WHERE excluded_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS evaluations_excluded_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('work_orders_rollup_by_updated_at') AND NOT indisvalid) THEN
        DROP INDEX work_orders_rollup_by_updated_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS work_orders_rollup_by_updated_at ON work_orders (updated_at);
DROP INDEX CONCURRENTLY IF EXISTS work_orders_updated_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('work_orders_rollup_by_opened_at') AND NOT indisvalid) THEN
        DROP INDEX work_orders_rollup_by_opened_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS work_orders_rollup_by_opened_at ON work_orders (opened_at);
DROP INDEX CONCURRENTLY IF EXISTS work_orders_opened_at;

-- +goose Down
-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('work_orders_opened_at') AND NOT indisvalid) THEN
        DROP INDEX work_orders_opened_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS work_orders_opened_at ON work_orders (opened_at);
DROP INDEX CONCURRENTLY IF EXISTS work_orders_rollup_by_opened_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('work_orders_updated_at') AND NOT indisvalid) THEN
        DROP INDEX work_orders_updated_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS work_orders_updated_at ON work_orders (updated_at);
DROP INDEX CONCURRENTLY IF EXISTS work_orders_rollup_by_updated_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_excluded_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_excluded_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_excluded_at ON evaluations (excluded_at) WHERE excluded_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS evaluations_rollup_and_feed_by_excluded_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_received_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_received_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_received_at ON evaluations (received_at);
DROP INDEX CONCURRENTLY IF EXISTS evaluations_rollup_and_feed_by_received_at;

-- +goose StatementBegin
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('evaluations_rated_at') AND NOT indisvalid) THEN
        DROP INDEX evaluations_rated_at;
    END IF;
END $$;
-- +goose StatementEnd
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_rated_at ON evaluations (rated_at);
DROP INDEX CONCURRENTLY IF EXISTS evaluations_rollup_by_rated_at;
