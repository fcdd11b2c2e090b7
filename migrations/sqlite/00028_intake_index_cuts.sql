-- +goose Up
-- Issue 22: two indexes every rating paid for and no query needs (see the PostgreSQL migration
-- of the same number): evaluations_phone_recent serves every look-up by phone hash, and the key
-- rotation finds a rating's slots by the primary key.
DROP INDEX IF EXISTS evaluations_phone_hash;
DROP INDEX IF EXISTS evaluation_slots_evaluation;

-- +goose Down
CREATE INDEX evaluation_slots_evaluation ON evaluation_slots (evaluation_id);
CREATE INDEX evaluations_phone_hash ON evaluations (evaluator_phone_hash) WHERE evaluator_phone_hash <> '';
