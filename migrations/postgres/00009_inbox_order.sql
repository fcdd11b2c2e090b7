-- +goose Up
-- The inbox's order (next deadline first, then age) as an index: a page of a large scope (an
-- administrator's whole city, a million orders in the scale benchmark) reads its first rows in
-- this order instead of sorting the whole scope (BENCHMARKS.md, point 4).
CREATE INDEX work_orders_due ON work_orders (next_due_at ASC NULLS LAST, opened_at, id);

-- +goose Down
DROP INDEX work_orders_due;
