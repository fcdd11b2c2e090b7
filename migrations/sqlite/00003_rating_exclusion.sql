-- +goose Up
-- An upheld appeal means the rating is not adopted (不予采纳): it stays stored, but statistics
-- and performance leave it out.
ALTER TABLE evaluations ADD COLUMN excluded BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE evaluations ADD COLUMN excluded_at DATETIME;

-- +goose Down
ALTER TABLE evaluations DROP COLUMN excluded_at;
ALTER TABLE evaluations DROP COLUMN excluded;
