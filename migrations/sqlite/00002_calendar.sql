-- +goose Up
-- National working-day calendars, one row per imported version of a year. A year is never
-- updated in place: a changed notice becomes a new revision, so a deadline computed with an
-- older revision can still be recomputed from the version string stored with it.
CREATE TABLE calendar_years (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    jurisdiction  TEXT NOT NULL DEFAULT 'cn',
    year          INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    version       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    source        TEXT NOT NULL,
    papers        TEXT NOT NULL DEFAULT '[]',
    day_count     INTEGER NOT NULL,
    imported_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (jurisdiction, year, revision)
);

-- The exceptions of one year version: holidays (is_off_day) and weekends made working days.
-- Unlisted days follow the weekend rule. A year's notice may also list the last days of
-- December of the year before (the New Year holiday).
CREATE TABLE calendar_days (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    year_id     BIGINT NOT NULL REFERENCES calendar_years(id) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    is_off_day  BOOLEAN NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    UNIQUE (year_id, date)
);

-- One revision counter per override scope (a unit subtree); every add or remove bumps it.
CREATE TABLE calendar_override_scopes (
    unit_path   TEXT PRIMARY KEY,
    revision    INTEGER NOT NULL,
    updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Local deviations for a unit subtree (unit_path '/gd/sz/' covers path LIKE '/gd/sz/%').
-- Rows are never deleted: removal sets removed_revision, so the overrides in force at any
-- scope revision r are those with revision <= r and (removed_revision IS NULL or > r).
CREATE TABLE calendar_overrides (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_path         TEXT NOT NULL,
    date              TEXT NOT NULL,
    is_off_day        BOOLEAN NOT NULL,
    reason            TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    revision          INTEGER NOT NULL,
    removed_revision  INTEGER,
    removed_by        TEXT,
    removed_at        DATETIME
);
CREATE UNIQUE INDEX calendar_overrides_active ON calendar_overrides (unit_path, date) WHERE removed_revision IS NULL;
CREATE INDEX calendar_overrides_path ON calendar_overrides (unit_path, revision);

-- +goose Down
DROP TABLE calendar_overrides;
DROP TABLE calendar_override_scopes;
DROP TABLE calendar_days;
DROP TABLE calendar_years;
