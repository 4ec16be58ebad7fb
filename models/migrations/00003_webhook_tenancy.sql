-- +goose Up
-- Webhooks bound to the tenant whose secret signed them, and a webhook log
-- each tenant can read without seeing another's payloads.

-- signed_by: which secret verified the POST. 'app' is the deployment's
-- META_APP_SECRET, trusted for every entry; 'channel' lists the channels whose
-- own app secret verified it, and only entries routed to those are applied.
-- Rows already stored were accepted under the old check and cannot be told
-- apart: they keep 'app'. New rows always name their signer.
ALTER TABLE raw_webhooks
    ADD COLUMN signed_by text NOT NULL DEFAULT 'app' CHECK (signed_by IN ('app', 'channel')),
    ADD COLUMN signer_channel_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN business_ids bigint[] NOT NULL DEFAULT '{}'; -- the businesses its entries routed to
ALTER TABLE raw_webhooks ALTER COLUMN signed_by DROP DEFAULT;

ALTER TABLE raw_webhooks DROP CONSTRAINT raw_webhooks_outcome_check;
ALTER TABLE raw_webhooks ADD CONSTRAINT raw_webhooks_outcome_check
    CHECK (outcome IN ('pending', 'processed', 'unknown_account', 'failed', 'rejected'));
DROP INDEX raw_webhooks_problems;

-- One row per event (or unreadable payload) that was not applied, with the
-- business it routed to. NULL business: no channel matched, or the payload
-- could not be read far enough to route it — visible to the operator only.
CREATE TABLE webhook_problems (
    id             bigserial PRIMARY KEY,
    raw_webhook_id bigint NOT NULL REFERENCES raw_webhooks ON DELETE CASCADE,
    business_id    bigint REFERENCES businesses ON DELETE CASCADE,
    channel_id     bigint REFERENCES channels ON DELETE SET NULL,
    app            text NOT NULL,
    account_id     text NOT NULL DEFAULT '',
    kind           text NOT NULL CHECK (kind IN ('failed', 'foreign_signature', 'unknown_account', 'unreadable', 'unresolved')),
    event_type     text NOT NULL DEFAULT '',
    event_key      text NOT NULL DEFAULT '',
    error          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_problems_business ON webhook_problems (business_id, created_at DESC);
CREATE INDEX webhook_problems_raw ON webhook_problems (raw_webhook_id);

-- Meta's timestamp of the marketing preference last applied: WhatsApp retries
-- a webhook for days, and a stale "resume" must not undo a newer "stop".
ALTER TABLE identities ADD COLUMN marketing_pref_at timestamptz;

-- +goose Down
ALTER TABLE identities DROP COLUMN marketing_pref_at;
DROP TABLE webhook_problems;
DELETE FROM raw_webhooks WHERE outcome = 'rejected';
ALTER TABLE raw_webhooks DROP CONSTRAINT raw_webhooks_outcome_check;
ALTER TABLE raw_webhooks ADD CONSTRAINT raw_webhooks_outcome_check
    CHECK (outcome IN ('pending', 'processed', 'unknown_account', 'failed'));
CREATE INDEX raw_webhooks_problems ON raw_webhooks (received_at DESC) WHERE outcome IN ('unknown_account', 'failed');
ALTER TABLE raw_webhooks DROP COLUMN signed_by, DROP COLUMN signer_channel_ids, DROP COLUMN business_ids;
