-- +goose Up

-- How far a message sent to a native WhatsApp group got with each participant
-- (statuses[].recipient_participant_id): one row per (message, participant),
-- written 'queued' for the participants we know when the message is queued,
-- moved forward only as their statuses arrive. pricing is the first one a
-- participant's statuses carried: Meta bills a group message per delivered
-- participant.
CREATE TABLE message_participant_statuses (
    message_id  bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    participant text NOT NULL, -- the participant's wa_id (or BSUID) as Meta names them
    status      text NOT NULL,
    at          timestamptz NOT NULL,
    pricing     jsonb,
    PRIMARY KEY (message_id, participant)
);

-- A group message is estimated for every participant it goes to.
ALTER TABLE message_costs ADD COLUMN participants integer NOT NULL DEFAULT 1;

-- Queued messages count once per participant (1 for a direct message).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION spend_on_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, messages, estimated_micros)
    SELECT business_id, (created_at AT TIME ZONE 'UTC')::date, COALESCE(channel_id, 0), market, category, currency,
           SUM(participants), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, messages, estimated_micros)
    SELECT business_id, date_trunc('month', (created_at AT TIME ZONE 'UTC')::date)::date, COALESCE(channel_id, 0), market, category, currency,
           SUM(participants), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, month, channel_id, market, category, currency) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A participant's first pricing charges that participant's delivery: Meta's
-- group categories (group_service, group_marketing…) are priced as their 1:1
-- category, so the rate is the table's for the category without "group_".
-- +goose StatementBegin
CREATE FUNCTION participant_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c message_costs;
    cat text;
    price bigint;
    d date;
BEGIN
    IF NEW.pricing IS NULL OR NOT NEW.pricing ? 'type' OR (TG_OP = 'UPDATE' AND OLD.pricing IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    UPDATE message_costs SET actual_category = CASE WHEN actual_type = '' THEN COALESCE(NEW.pricing->>'category', '') ELSE actual_category END,
        actual_type = CASE WHEN actual_type = '' THEN NEW.pricing->>'type' ELSE actual_type END
    WHERE message_id = NEW.message_id RETURNING * INTO c;
    IF NOT FOUND OR NEW.pricing->>'type' <> 'regular' THEN
        RETURN NULL;
    END IF;
    cat := regexp_replace(COALESCE(NEW.pricing->>'category', c.category), '^group_', '');
    d := (c.created_at AT TIME ZONE 'UTC')::date;
    SELECT CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END INTO price FROM country_prices p
    WHERE p.business_id = c.business_id AND p.market = c.market AND p.category = cat AND p.effective_from <= d
    ORDER BY p.effective_from DESC LIMIT 1;
    UPDATE message_costs SET actual_micros = COALESCE(actual_micros, 0) + COALESCE(price, 0) WHERE message_id = c.message_id;
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
CREATE TRIGGER participant_costs_actual AFTER INSERT OR UPDATE OF pricing ON message_participant_statuses
    FOR EACH ROW EXECUTE FUNCTION participant_costs_actual();

-- +goose Down
DROP TRIGGER participant_costs_actual ON message_participant_statuses;
DROP FUNCTION participant_costs_actual();
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
ALTER TABLE message_costs DROP COLUMN participants;
DROP TABLE message_participant_statuses;
