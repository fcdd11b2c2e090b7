-- +goose Up
-- Issue 22: the statistics' generation, one row counting the recomputed days. The roller
-- (stats/rollup.go) adds one in the transaction that replaces a day (and its month rows), so
-- an answer summed from the rollups at generation N is still exact while the count is N; the
-- API keeps the sums of every unit's month statistics under it (stats.Kept) instead of summing
-- the month rows again on every request.
CREATE TABLE stats_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO stats_generation (id, generation) VALUES (1, 1);

-- +goose Down
DROP TABLE stats_generation;
