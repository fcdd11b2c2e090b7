-- +goose Up
-- An upheld appeal is decided on one work order, and since a theme-service rating may open one
-- order per unit (00021) the exclusion belongs to the order's own cases, not to the rating: an
-- appeal upheld at one unit must leave the other units' figures alone (issue 15). excluded
-- marks a case not adopted at all; excluded_indicators (JSON) lists the staff indicators not
-- adopted while the case's process or platform complaints stay counted. The evaluation's own
-- excluded (a whole rating: fraud rulings, or every case excluded) still applies to every case.
ALTER TABLE evaluation_cases ADD COLUMN excluded BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE evaluation_cases ADD COLUMN excluded_indicators TEXT NOT NULL DEFAULT '[]';
-- Exclusions made before this migration were made on ratings with one order each: every case
-- of the rating carries them.
UPDATE evaluation_cases
   SET excluded_indicators = (SELECT e.excluded_indicators FROM evaluations e WHERE e.id = evaluation_cases.evaluation_id)
 WHERE evaluation_id IN (SELECT id FROM evaluations WHERE excluded_indicators <> '[]');

-- +goose Down
ALTER TABLE evaluation_cases DROP COLUMN excluded_indicators;
ALTER TABLE evaluation_cases DROP COLUMN excluded;
