-- +goose Up
-- Why a work order's deadline cannot be computed (issue 17, finding 3): recorded by the
-- ComputeDeadline activity while it retries, in Chinese for the administration, and cleared
-- once the policy is fixed and the deadline computes. Empty for every other order.
ALTER TABLE work_orders ADD COLUMN deadline_error TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE work_orders DROP COLUMN deadline_error;
