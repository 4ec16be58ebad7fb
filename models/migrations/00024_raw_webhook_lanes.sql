-- +goose Up
-- Each raw webhook is journaled into one of the processor's lanes, chosen
-- from the customer it is about, and each lane has its own worker: a
-- customer's payloads are applied by one worker in order, and the workers'
-- batches no longer wait for each other's customer locks.
ALTER TABLE raw_webhooks ADD COLUMN lane smallint NOT NULL DEFAULT 0;
DROP INDEX raw_webhooks_pending;
CREATE INDEX raw_webhooks_pending ON raw_webhooks (lane, id) WHERE outcome = 'pending';

-- +goose Down
DROP INDEX raw_webhooks_pending;
CREATE INDEX raw_webhooks_pending ON raw_webhooks (id) WHERE outcome = 'pending';
ALTER TABLE raw_webhooks DROP COLUMN lane;
