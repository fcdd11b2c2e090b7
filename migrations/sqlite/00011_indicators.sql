-- +goose Up
-- Indicators are a catalogue (issue 15): code, Chinese name and kind (overall, staff, process,
-- platform), per jurisdiction; the nearest unit with a catalogue wins, units without one use the
-- built-in default (package indicators). The kind decides what an appeal can touch and where a
-- platform rating goes.
CREATE TABLE indicators (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id     BIGINT NOT NULL REFERENCES units(id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (unit_id, code)
);
-- An upheld appeal of a rating that also complains of the process or the platform excludes
-- only its staff indicators (listed here, JSON); excluded stays false and the rating counts on.
ALTER TABLE evaluations ADD COLUMN excluded_indicators TEXT NOT NULL DEFAULT '[]';
-- A theme-service rating charges each case the level of its own item (谁办理、谁负责); NULL
-- means the rating's own levels apply (every other rating).
ALTER TABLE evaluation_cases ADD COLUMN overall TEXT;
ALTER TABLE evaluation_cases ADD COLUMN bad BOOLEAN;

-- +goose Down
ALTER TABLE evaluation_cases DROP COLUMN bad;
ALTER TABLE evaluation_cases DROP COLUMN overall;
ALTER TABLE evaluations DROP COLUMN excluded_indicators;
DROP TABLE indicators;
