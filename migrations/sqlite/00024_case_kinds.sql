-- +goose Up
-- Issue 21: a service case (办件) records whether its applicant is a natural person or a legal
-- person (personal / legal: the provincial userProp 个人 1 / 法人 2) and whether the item is a
-- 承诺件 or a 即办件 (promise / immediate: promiseTime 1 / 2). Empty: the channel did not say
-- (cases registered before this migration); the push then sends 个人 and 承诺件.
ALTER TABLE service_cases ADD COLUMN applicant_type TEXT NOT NULL DEFAULT '';
ALTER TABLE service_cases ADD COLUMN promise_kind TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE service_cases DROP COLUMN promise_kind;
ALTER TABLE service_cases DROP COLUMN applicant_type;
