-- Issue 22: the evaluator's slot folded into the rating's case link (BENCHMARKS.md, point 9,
-- fifth sitting). Every case link a rating stores had exactly one slot row beside it, with the
-- same rating and case: a second row, its primary key's index entry and its foreign key's lock
-- on the case's row, for every case of every rating. The link now carries the slot's
-- evaluator_key and slot, and a unique index on (case_no, evaluator_key, slot) keeps "one first
-- rating per case and evaluator" under concurrency as the slots' primary key did; with case_no
-- leading, it also serves every look-up of a case's links that evaluation_cases_case served.
-- Links written without a slot (none by intake; seeded statistics fixtures) leave both NULL and
-- claim nothing: NULLs are distinct in a unique index.
-- +goose Up
ALTER TABLE evaluation_cases ADD COLUMN evaluator_key TEXT;
ALTER TABLE evaluation_cases ADD COLUMN slot INTEGER;
UPDATE evaluation_cases c
   SET evaluator_key = s.evaluator_key, slot = s.slot
  FROM evaluation_slots s
 WHERE s.evaluation_id = c.evaluation_id AND s.case_no = c.case_no;
-- A slot without its link was never written (both go in one transaction): refuse to drop one.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM evaluation_slots s
                WHERE NOT EXISTS (SELECT 1 FROM evaluation_cases c WHERE c.evaluation_id = s.evaluation_id AND c.case_no = s.case_no)) THEN
        RAISE EXCEPTION 'evaluation_slots holds slots without a case link; not folded';
    END IF;
END $$;
-- +goose StatementEnd
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
