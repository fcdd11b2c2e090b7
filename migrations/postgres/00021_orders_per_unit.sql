-- +goose Up
-- A theme-service rating whose bad items belong to several units opens one work order per unit
-- (issue 15: 谁办理、谁负责, each bad item opens or joins an order at its own unit), so one
-- evaluation may now have several orders. The column stays indexed for the joins from an
-- evaluation to its orders.
ALTER TABLE work_orders DROP CONSTRAINT work_orders_evaluation_id_key;
CREATE INDEX work_orders_evaluation ON work_orders (evaluation_id);

-- +goose Down
DROP INDEX work_orders_evaluation;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_evaluation_id_key UNIQUE (evaluation_id);
