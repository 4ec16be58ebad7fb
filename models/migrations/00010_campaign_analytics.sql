-- +goose Up
-- What campaigns earn: replies and clicks (counted in campaign_counts by its
-- triggers) and orders attributed to the campaign that reached the customer
-- last, kept as counters so the report page never counts recipients.

ALTER TABLE campaigns
    ADD COLUMN attribution_days integer NOT NULL DEFAULT 7 CHECK (attribution_days BETWEEN 1 AND 90),
    ADD COLUMN ordered_count    integer NOT NULL DEFAULT 0 CHECK (ordered_count >= 0), -- recipients who ordered
    ADD COLUMN orders_count     integer NOT NULL DEFAULT 0 CHECK (orders_count >= 0);  -- orders and conversions recorded

ALTER TABLE campaign_recipients
    ADD COLUMN ordered_at     timestamptz,
    ADD COLUMN revenue_micros bigint NOT NULL DEFAULT 0;
-- The report's recipient table pages one campaign in id order, by status or
-- by what the customer did (few rows: the partial indexes stay small).
CREATE INDEX campaign_recipients_campaign ON campaign_recipients (campaign_id, id);
CREATE INDEX campaign_recipients_campaign_status ON campaign_recipients (campaign_id, status, id);
CREATE INDEX campaign_recipients_replied ON campaign_recipients (campaign_id, id) WHERE replied_at IS NOT NULL;
CREATE INDEX campaign_recipients_clicked ON campaign_recipients (campaign_id, id) WHERE clicked_at IS NOT NULL;
CREATE INDEX campaign_recipients_ordered ON campaign_recipients (campaign_id, id) WHERE ordered_at IS NOT NULL;

-- The words that, as a whole message, stop marketing; NULL = the defaults.
ALTER TABLE businesses ADD COLUMN stop_words text[];

-- One row per WhatsApp order or posted conversion; revenue counts each once.
CREATE TABLE campaign_orders (
    id            bigserial PRIMARY KEY,
    campaign_id   bigint NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    recipient_id  bigint REFERENCES campaign_recipients ON DELETE SET NULL,
    source        text NOT NULL CHECK (source IN ('whatsapp_order', 'conversion')),
    message_id    bigint REFERENCES messages ON DELETE SET NULL,
    external_id   text,
    amount_micros bigint NOT NULL CHECK (amount_micros >= 0),
    currency      text NOT NULL,
    counted       boolean NOT NULL, -- in the campaign's currency, so in its revenue
    ordered_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX campaign_orders_message ON campaign_orders (message_id) WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX campaign_orders_external ON campaign_orders (campaign_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX campaign_orders_campaign ON campaign_orders (campaign_id, ordered_at);

-- How far attribution has read the messages table: one row.
CREATE TABLE campaign_attribution_watermark (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_message_id bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- No campaign ever ran before this migration: nothing earlier to attribute.
INSERT INTO campaign_attribution_watermark (last_message_id) SELECT COALESCE(max(id), 0) FROM messages;

-- +goose Down
DROP TABLE campaign_attribution_watermark, campaign_orders;
ALTER TABLE businesses DROP COLUMN stop_words;
DROP INDEX campaign_recipients_campaign, campaign_recipients_campaign_status, campaign_recipients_replied,
    campaign_recipients_clicked, campaign_recipients_ordered;
ALTER TABLE campaign_recipients DROP COLUMN ordered_at, DROP COLUMN revenue_micros;
ALTER TABLE campaigns DROP COLUMN attribution_days, DROP COLUMN ordered_count, DROP COLUMN orders_count;
