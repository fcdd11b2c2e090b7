-- +goose Up
-- Indexes the scale benchmark (BENCHMARKS.md, 10 million ratings) showed missing: the
-- statistics rollup recomputes a day by rated_at and finds changed ratings and orders by
-- received_at / excluded_at and updated_at / opened_at; the upstream feed pages by received_at.
-- Without them each of those is a full scan of the ratings table.
CREATE INDEX evaluations_rated_at ON evaluations (rated_at);
CREATE INDEX evaluations_received_at ON evaluations (received_at);
CREATE INDEX evaluations_excluded_at ON evaluations (excluded_at) WHERE excluded_at IS NOT NULL;
CREATE INDEX work_orders_updated_at ON work_orders (updated_at);
CREATE INDEX work_orders_opened_at ON work_orders (opened_at);

-- +goose Down
DROP INDEX work_orders_opened_at;
DROP INDEX work_orders_updated_at;
DROP INDEX evaluations_excluded_at;
DROP INDEX evaluations_received_at;
DROP INDEX evaluations_rated_at;
