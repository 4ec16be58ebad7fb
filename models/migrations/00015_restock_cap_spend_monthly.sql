-- +goose Up

-- A WhatsApp restock alert Meta held back under its per-user marketing cap
-- (131049) is retried once, 24 h later: when that retry was scheduled, and
-- when it was sent (claimed in the transaction that queues it).
ALTER TABLE restock_waitlist ADD COLUMN cap_retry_at timestamptz, ADD COLUMN cap_retried_at timestamptz;
CREATE INDEX restock_waitlist_notified_message ON restock_waitlist (message_id)
    WHERE status = 'notified' AND cap_retry_at IS NULL AND message_id IS NOT NULL;
-- A status of a message finds the waitlist entry it alerted (the product page, live).
CREATE INDEX restock_waitlist_message ON restock_waitlist (message_id) WHERE message_id IS NOT NULL;

-- The customer's language from Meta's user profile (Messenger/Instagram
-- `locale`, e.g. it_IT), when known: restock alerts are written in it.
ALTER TABLE identities ADD COLUMN locale text NOT NULL DEFAULT '';

-- Spend per calendar month (UTC), kept by the same triggers as spend_daily:
-- a month's page reads a few dozen rows instead of summing its days. Both
-- tables are updated in place on every message: a low fillfactor keeps the
-- updates HOT (same page) and autovacuum keeps the dead versions few.
CREATE TABLE spend_monthly (
    business_id      bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    month            date NOT NULL, -- the month's first day
    channel_id       bigint NOT NULL DEFAULT 0,
    market           text NOT NULL,
    category         text NOT NULL,
    currency         text NOT NULL,
    messages         integer NOT NULL DEFAULT 0,
    estimated_micros bigint NOT NULL DEFAULT 0,
    charged          integer NOT NULL DEFAULT 0,
    actual_micros    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (business_id, month, channel_id, market, category, currency)
) WITH (fillfactor = 30, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000);
ALTER TABLE spend_daily SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);

INSERT INTO spend_monthly (business_id, month, channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros)
SELECT business_id, date_trunc('month', day)::date, channel_id, market, category, currency,
       SUM(messages), SUM(estimated_micros), SUM(charged), SUM(actual_micros)
FROM spend_daily GROUP BY 1, 2, 3, 4, 5, 6;

-- The estimates land once per statement, summed per row of each table: a
-- batch of queued messages (a campaign's, a restock's) upserts each counter
-- once, instead of once per message, which inside one transaction leaves a
-- version chain to walk per update.
DROP TRIGGER spend_on_cost ON message_costs;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION spend_on_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, messages, estimated_micros)
    SELECT business_id, (created_at AT TIME ZONE 'UTC')::date, COALESCE(channel_id, 0), market, category, currency,
           count(*), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, messages, estimated_micros)
    SELECT business_id, date_trunc('month', (created_at AT TIME ZONE 'UTC')::date)::date, COALESCE(channel_id, 0), market, category, currency,
           count(*), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, month, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER spend_on_costs AFTER INSERT ON message_costs REFERENCING NEW TABLE AS new_costs
    FOR EACH STATEMENT EXECUTE FUNCTION spend_on_costs();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c message_costs;
    price bigint;
    d date;
BEGIN
    IF NEW.pricing IS NULL OR NOT NEW.pricing ? 'type' THEN
        RETURN NULL;
    END IF;
    -- The first status that carries pricing decides; later ones repeat it.
    UPDATE message_costs SET actual_category = COALESCE(NEW.pricing->>'category', ''), actual_type = NEW.pricing->>'type'
    WHERE message_id = NEW.message_id AND actual_type = '' RETURNING * INTO c;
    IF NOT FOUND OR c.actual_type <> 'regular' THEN
        RETURN NULL;
    END IF;
    d := (c.created_at AT TIME ZONE 'UTC')::date;
    SELECT CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END INTO price FROM country_prices p
    WHERE p.business_id = c.business_id AND p.market = c.market AND p.category = c.actual_category
      AND p.effective_from <= d
    ORDER BY p.effective_from DESC LIMIT 1;
    UPDATE message_costs SET actual_micros = price WHERE message_id = c.message_id;
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, charged, actual_micros)
    VALUES (c.business_id, d, COALESCE(c.channel_id, 0), c.market, c.category, c.currency, 1, COALESCE(price, 0))
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET charged = s.charged + 1, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, charged, actual_micros)
    VALUES (c.business_id, date_trunc('month', d)::date, COALESCE(c.channel_id, 0), c.market, c.category, c.currency, 1, COALESCE(price, 0))
    ON CONFLICT (business_id, month, channel_id, market, category, currency) DO UPDATE
    SET charged = s.charged + 1, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER spend_on_costs ON message_costs;
DROP FUNCTION spend_on_costs();
CREATE TRIGGER spend_on_cost AFTER INSERT ON message_costs FOR EACH ROW EXECUTE FUNCTION spend_on_cost();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION spend_on_cost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, messages, estimated_micros)
    VALUES (NEW.business_id, (NEW.created_at AT TIME ZONE 'UTC')::date, COALESCE(NEW.channel_id, 0), NEW.market, NEW.category,
            NEW.currency, 1, COALESCE(NEW.estimated_micros, 0))
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + 1, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c message_costs;
    price bigint;
BEGIN
    IF NEW.pricing IS NULL OR NOT NEW.pricing ? 'type' THEN
        RETURN NULL;
    END IF;
    UPDATE message_costs SET actual_category = COALESCE(NEW.pricing->>'category', ''), actual_type = NEW.pricing->>'type'
    WHERE message_id = NEW.message_id AND actual_type = '' RETURNING * INTO c;
    IF NOT FOUND OR c.actual_type <> 'regular' THEN
        RETURN NULL;
    END IF;
    SELECT CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END INTO price FROM country_prices p
    WHERE p.business_id = c.business_id AND p.market = c.market AND p.category = c.actual_category
      AND p.effective_from <= (c.created_at AT TIME ZONE 'UTC')::date
    ORDER BY p.effective_from DESC LIMIT 1;
    UPDATE message_costs SET actual_micros = price WHERE message_id = c.message_id;
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, charged, actual_micros)
    VALUES (c.business_id, (c.created_at AT TIME ZONE 'UTC')::date, COALESCE(c.channel_id, 0), c.market, c.category, c.currency, 1, COALESCE(price, 0))
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET charged = s.charged + 1, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
ALTER TABLE spend_daily RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
DROP TABLE spend_monthly;
DROP INDEX restock_waitlist_message;
DROP INDEX restock_waitlist_notified_message;
ALTER TABLE identities DROP COLUMN locale;
ALTER TABLE restock_waitlist DROP COLUMN cap_retry_at, DROP COLUMN cap_retried_at;
