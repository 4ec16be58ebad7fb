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
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_costs_business ON message_costs (business_id, created_at);

-- Meta's pricing{category, type} arrives on a status; the ingest already keeps
-- it per status, and this copies it to the message's cost as it lands.
-- +goose StatementBegin
CREATE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.pricing IS NOT NULL AND NEW.pricing ? 'type' THEN
        UPDATE message_costs SET actual_category = COALESCE(NEW.pricing->>'category', ''), actual_type = NEW.pricing->>'type'
        WHERE message_id = NEW.message_id
          AND (actual_type IS DISTINCT FROM NEW.pricing->>'type' OR actual_category IS DISTINCT FROM COALESCE(NEW.pricing->>'category', ''));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER message_costs_actual AFTER INSERT OR UPDATE OF pricing ON message_statuses
    FOR EACH ROW EXECUTE FUNCTION message_costs_actual();

-- +goose Down
DROP TRIGGER message_costs_actual ON message_statuses;
DROP FUNCTION message_costs_actual();
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
