-- +goose NO TRANSACTION
-- Issue 22: two indexes every rating paid for and no query needs (BENCHMARKS.md, point 9,
-- fourth sitting: a rating wrote ~15 index entries against pgbench's ~6).
--
-- evaluations_phone_hash (evaluator_phone_hash) WHERE evaluator_phone_hash <> '' is the leading
-- column and the very predicate of evaluations_phone_recent (evaluator_phone_hash, received_at):
-- every look-up by phone hash (intake/personal.go, the fraud checks) is served by that one.
--
-- evaluation_slots_evaluation (evaluation_id) served one statement, the key rotation's update of
-- a rating's slots (intake/rotate.go), which now finds them by the primary key's
-- (case_no, evaluator_key) from the rating's case links.
--
-- Dropped CONCURRENTLY, so that intake never waits on the drop; IF EXISTS makes a rerun after an
-- interruption safe. Down builds them again the same way.
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS evaluations_phone_hash;
DROP INDEX CONCURRENTLY IF EXISTS evaluation_slots_evaluation;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluation_slots_evaluation ON evaluation_slots (evaluation_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS evaluations_phone_hash ON evaluations (evaluator_phone_hash) WHERE evaluator_phone_hash <> '';
