-- +goose Up
-- Issue 22: the evaluator's slot folded into the rating's case link (see the PostgreSQL
-- migration of the same number): one row, one index entry and one foreign key check fewer for
-- every case of every rating; the unique index keeps one first rating per case and evaluator,
-- and serves the look-ups of a case's links that evaluation_cases_case served.
ALTER TABLE evaluation_cases ADD COLUMN evaluator_key TEXT;
ALTER TABLE evaluation_cases ADD COLUMN slot INTEGER;
UPDATE evaluation_cases
   SET evaluator_key = (SELECT s.evaluator_key FROM evaluation_slots s WHERE s.evaluation_id = evaluation_cases.evaluation_id AND s.case_no = evaluation_cases.case_no),
       slot = (SELECT s.slot FROM evaluation_slots s WHERE s.evaluation_id = evaluation_cases.evaluation_id AND s.case_no = evaluation_cases.case_no);
-- A slot without its link was never written (both go in one transaction): were there one, this
-- insert would fail on the NOT NULL, and the migration with it, rather than drop the slot.
CREATE TEMP TABLE fold_check (n INTEGER NOT NULL);
INSERT INTO fold_check (n)
SELECT CASE WHEN EXISTS (SELECT 1 FROM evaluation_slots s
                          WHERE NOT EXISTS (SELECT 1 FROM evaluation_cases c WHERE c.evaluation_id = s.evaluation_id AND c.case_no = s.case_no))
            THEN NULL ELSE 0 END;
DROP TABLE fold_check;
CREATE UNIQUE INDEX evaluation_cases_slot ON evaluation_cases (case_no, evaluator_key, slot);
DROP INDEX evaluation_cases_case;
DROP TABLE evaluation_slots;

-- +goose Down
CREATE TABLE evaluation_slots (
    case_no        TEXT NOT NULL REFERENCES service_cases(case_no),
    evaluator_key  TEXT NOT NULL,
    slot           INTEGER NOT NULL,
    evaluation_id  TEXT NOT NULL REFERENCES evaluations(id),
    PRIMARY KEY (case_no, evaluator_key, slot)
);
INSERT INTO evaluation_slots (case_no, evaluator_key, slot, evaluation_id)
SELECT case_no, evaluator_key, slot, evaluation_id FROM evaluation_cases WHERE evaluator_key IS NOT NULL AND slot IS NOT NULL;
CREATE INDEX evaluation_cases_case ON evaluation_cases (case_no);
DROP INDEX evaluation_cases_slot;
ALTER TABLE evaluation_cases DROP COLUMN slot;
ALTER TABLE evaluation_cases DROP COLUMN evaluator_key;
