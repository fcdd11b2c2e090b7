-- +goose Up
-- Why a work order's deadline cannot be computed (issue 17, finding 3): recorded by the
-- ComputeDeadline activity while it retries, in Chinese for the administration, and cleared
-- once the policy is fixed and the deadline computes. Empty for every other order.
ALTER TABLE work_orders ADD COLUMN deadline_error TEXT NOT NULL DEFAULT '';

-- One-time maintenance jobs that have run on this database: the rehash of identities stored
-- before phones and ID numbers were normalised (issue 17; intake.RehashIdentitiesOnce, run
-- at the API's start because it needs the PII keys, which migrations do not have).
CREATE TABLE maintenance_runs (
    name TEXT PRIMARY KEY,
    done_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE maintenance_runs;
ALTER TABLE work_orders DROP COLUMN deadline_error;
