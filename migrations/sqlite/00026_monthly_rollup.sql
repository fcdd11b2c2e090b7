-- +goose Up
-- Issue 22: monthly rollups of the unit figures, so that a month of every unit in a city reads
-- one row per unit instead of a day's row for each of the month's days (the daily rows come
-- through the (dim, unit_path, day) index, which for a month visits a whole year of each unit).
-- One row per Asia/Shanghai month ('YYYY-MM') and unit with the sums of that month's daily rows
-- of the same unit and path: stats_ratings_monthly sums the dim = 'unit' rows of
-- stats_ratings_daily, stats_orders_monthly the rows of stats_orders_daily. The path is part of
-- the key because a day's rows keep the path their unit had when the day was recomputed: a
-- unit moved in the tree has rows under both paths until its old days are recomputed, and the
-- readers select rows by path, so each path keeps its own sums (one row per unit otherwise).
-- The roller (stats/rollup.go) recomputes the month rows of the units a day touches, in the
-- transaction that replaces the day, from the daily rows; the readers (stats/query.go) read the
-- whole months of a period here and its partial months at the edges from the daily rows.
CREATE TABLE stats_ratings_monthly (
    month      TEXT NOT NULL,
    unit_id    BIGINT NOT NULL,
    unit_path  TEXT NOT NULL,
    a_vs       INTEGER NOT NULL DEFAULT 0,
    a_s        INTEGER NOT NULL DEFAULT 0,
    a_bs       INTEGER NOT NULL DEFAULT 0,
    a_d        INTEGER NOT NULL DEFAULT 0,
    a_vd       INTEGER NOT NULL DEFAULT 0,
    d_vs       INTEGER NOT NULL DEFAULT 0,
    d_s        INTEGER NOT NULL DEFAULT 0,
    d_bs       INTEGER NOT NULL DEFAULT 0,
    d_d        INTEGER NOT NULL DEFAULT 0,
    d_vd       INTEGER NOT NULL DEFAULT 0,
    bad        INTEGER NOT NULL DEFAULT 0,
    excluded   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, unit_id, unit_path)
);
-- All units of a scope for one month (or a few): month first, then the path prefix.
CREATE INDEX stats_ratings_monthly_scope ON stats_ratings_monthly (month, unit_path);

CREATE TABLE stats_orders_monthly (
    month                  TEXT NOT NULL,
    unit_id                BIGINT NOT NULL,
    unit_path              TEXT NOT NULL,
    orders                 INTEGER NOT NULL DEFAULT 0,
    real_name              INTEGER NOT NULL DEFAULT 0,
    called_back            INTEGER NOT NULL DEFAULT 0,
    called_back_real_name  INTEGER NOT NULL DEFAULT 0,
    rectified              INTEGER NOT NULL DEFAULT 0,
    explained              INTEGER NOT NULL DEFAULT 0,
    appealed               INTEGER NOT NULL DEFAULT 0,
    upheld                 INTEGER NOT NULL DEFAULT 0,
    rejected               INTEGER NOT NULL DEFAULT 0,
    closed                 INTEGER NOT NULL DEFAULT 0,
    on_time                INTEGER NOT NULL DEFAULT 0,
    overdue                INTEGER NOT NULL DEFAULT 0,
    overdue_days           INTEGER NOT NULL DEFAULT 0,
    supervised             INTEGER NOT NULL DEFAULT 0,
    handled                INTEGER NOT NULL DEFAULT 0,
    handling_days          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, unit_id, unit_path)
);
CREATE INDEX stats_orders_monthly_scope ON stats_orders_monthly (month, unit_path);

-- Backfill from the daily rows already there, so that an upgraded deployment answers the same
-- figures at once, without waiting for the roller to recompute every day.
INSERT INTO stats_ratings_monthly (month, unit_id, unit_path, a_vs, a_s, a_bs, a_d, a_vd, d_vs, d_s, d_bs, d_d, d_vd, bad, excluded)
SELECT substr(day, 1, 7), unit_id, unit_path, SUM(a_vs), SUM(a_s), SUM(a_bs), SUM(a_d), SUM(a_vd),
       SUM(d_vs), SUM(d_s), SUM(d_bs), SUM(d_d), SUM(d_vd), SUM(bad), SUM(excluded)
  FROM stats_ratings_daily
 WHERE dim = 'unit'
 GROUP BY substr(day, 1, 7), unit_id, unit_path;

INSERT INTO stats_orders_monthly (month, unit_id, unit_path, orders, real_name, called_back, called_back_real_name, rectified,
                                  explained, appealed, upheld, rejected, closed, on_time, overdue, overdue_days, supervised,
                                  handled, handling_days)
SELECT substr(day, 1, 7), unit_id, unit_path, SUM(orders), SUM(real_name), SUM(called_back), SUM(called_back_real_name),
       SUM(rectified), SUM(explained), SUM(appealed), SUM(upheld), SUM(rejected), SUM(closed), SUM(on_time), SUM(overdue),
       SUM(overdue_days), SUM(supervised), SUM(handled), SUM(handling_days)
  FROM stats_orders_daily
 GROUP BY substr(day, 1, 7), unit_id, unit_path;

-- +goose Down
DROP TABLE stats_orders_monthly;
DROP TABLE stats_ratings_monthly;
