-- +goose Up
-- National data items of a unit (issue 21): its 9-digit administrative division code (行政区划代码,
-- GB/T 2260 extended to the township level) and its 行使层级 per GB/T 39046-2020 A.2 (1 国家级 …
-- 7 村/社区); '' and 0 while the organisation file gives none.
ALTER TABLE units ADD COLUMN division_code TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN level INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE units DROP COLUMN level;
ALTER TABLE units DROP COLUMN division_code;
