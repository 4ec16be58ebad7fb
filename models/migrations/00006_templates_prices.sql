-- +goose Up
-- WhatsApp templates as Meta lists them, and the rate card they are priced by.

-- Templates keep every status Meta reports (never deleted: messages and
-- campaigns point at them); parameters are the variables of header, body and
-- URL buttons, positional ({{1}}) or named ({{first_name}}).
ALTER TABLE wa_templates
    ADD COLUMN meta_id          text NOT NULL DEFAULT '',
    ADD COLUMN parameter_format text NOT NULL DEFAULT 'positional' CHECK (parameter_format IN ('positional', 'named')),
    ADD COLUMN parameters       jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN status_reason    text NOT NULL DEFAULT '',
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT wa_templates_status CHECK (status IN ('approved', 'pending', 'rejected', 'paused', 'disabled',
        'flagged', 'in_appeal', 'pending_deletion', 'archived', 'limit_exceeded', 'deleted'));
CREATE INDEX wa_templates_meta_id ON wa_templates (channel_id, meta_id) WHERE meta_id <> '';

-- The last template sync of each WhatsApp channel, shown in Settings → Templates.
CREATE TABLE wa_template_syncs (
    channel_id  bigint PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    synced_at   timestamptz NOT NULL,
    error       text NOT NULL DEFAULT '',
    fetched     integer NOT NULL DEFAULT 0,
    deleted     integer NOT NULL DEFAULT 0
);

-- A rate-card cell may be "n/a" (unavailable): it still supersedes an older
-- price. Authentication-International is its own column on Meta's card.
ALTER TABLE country_prices
    ADD COLUMN unavailable boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT country_prices_category_check,
    ADD CONSTRAINT country_prices_category_check
        CHECK (category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'service'));
CREATE INDEX country_prices_in_force ON country_prices (business_id, effective_from);

-- What each outbound WhatsApp message costs: estimated from our table when
-- queued, and the category and pricing type Meta reports on its statuses.
-- A table of its own: the wide messages row is never rewritten for it.
CREATE TABLE message_costs (
    message_id       bigint PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    business_id      bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    channel_id       bigint REFERENCES channels ON DELETE SET NULL,
    country          text NOT NULL DEFAULT '',
    market           text NOT NULL DEFAULT '', -- '' unknown: a BSUID-only customer
    category         text NOT NULL,
    currency         text NOT NULL DEFAULT '',
    estimated_micros bigint,                   -- NULL: no price in the table that day
    actual_category  text NOT NULL DEFAULT '',
    actual_type      text NOT NULL DEFAULT '', -- regular, free_customer_service, free_entry_point
    actual_micros    bigint,                   -- what a regular (charged) message cost at our rate for its actual category
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_costs_business ON message_costs (business_id, created_at);

-- Spend per day, channel, market and (estimated) category, kept up to date by
-- the triggers below so the Spend page never scans messages.
CREATE TABLE spend_daily (
    business_id      bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    day              date NOT NULL,
    channel_id       bigint NOT NULL DEFAULT 0,
    market           text NOT NULL,
    category         text NOT NULL,
    currency         text NOT NULL,
    messages         integer NOT NULL DEFAULT 0,
    estimated_micros bigint NOT NULL DEFAULT 0,
    charged          integer NOT NULL DEFAULT 0,
    actual_micros    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (business_id, day, channel_id, market, category, currency)
);

-- +goose StatementBegin
CREATE FUNCTION spend_on_cost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, messages, estimated_micros)
    VALUES (NEW.business_id, (NEW.created_at AT TIME ZONE 'UTC')::date, COALESCE(NEW.channel_id, 0), NEW.market, NEW.category,
            NEW.currency, 1, COALESCE(NEW.estimated_micros, 0))
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + 1, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER spend_on_cost AFTER INSERT ON message_costs FOR EACH ROW EXECUTE FUNCTION spend_on_cost();

-- Meta's pricing{category, type} arrives on a status; the ingest already keeps
-- it per status, and this copies it to the message's cost as it lands.
-- +goose StatementBegin
CREATE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c message_costs;
    price bigint;
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
CREATE TRIGGER message_costs_actual AFTER INSERT OR UPDATE OF pricing ON message_statuses
    FOR EACH ROW EXECUTE FUNCTION message_costs_actual();

-- +goose Down
DROP TRIGGER message_costs_actual ON message_statuses;
DROP FUNCTION message_costs_actual();
DROP TRIGGER spend_on_cost ON message_costs;
DROP FUNCTION spend_on_cost();
DROP TABLE spend_daily;
DROP TABLE message_costs;
DROP INDEX country_prices_in_force;
DELETE FROM country_prices WHERE category = 'authentication_international';
ALTER TABLE country_prices
    DROP COLUMN unavailable,
    DROP CONSTRAINT country_prices_category_check,
    ADD CONSTRAINT country_prices_category_check
        CHECK (category IN ('marketing', 'utility', 'authentication', 'service'));
DROP TABLE wa_template_syncs;
DROP INDEX wa_templates_meta_id;
ALTER TABLE wa_templates
    DROP CONSTRAINT wa_templates_status,
    DROP COLUMN meta_id, DROP COLUMN parameter_format, DROP COLUMN parameters,
    DROP COLUMN status_reason, DROP COLUMN updated_at;
