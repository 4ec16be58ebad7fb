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

-- Spend rows are sharded by the writing connection (pg_backend_pid() % 8):
-- every queued WhatsApp message upserts its day's and its month's row inside
-- the queuing transaction, so concurrent transactions of one business (relay
-- legs, campaign batches) queued behind that one row lock until commit — 39 ms
-- per relayed message at 8 connections. Readers already sum the rows.
ALTER TABLE spend_daily ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE spend_daily DROP CONSTRAINT spend_daily_pkey,
    ADD PRIMARY KEY (business_id, day, channel_id, market, category, currency, shard);
ALTER TABLE spend_monthly ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE spend_monthly DROP CONSTRAINT spend_monthly_pkey,
    ADD PRIMARY KEY (business_id, month, channel_id, market, category, currency, shard);

-- Queued messages count once per participant (1 for a direct message).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION spend_on_costs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, shard, messages, estimated_micros)
    SELECT business_id, (created_at AT TIME ZONE 'UTC')::date, COALESCE(channel_id, 0), market, category, currency, pg_backend_pid() % 8,
           SUM(participants), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, day, channel_id, market, category, currency, shard) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, shard, messages, estimated_micros)
    SELECT business_id, date_trunc('month', (created_at AT TIME ZONE 'UTC')::date)::date, COALESCE(channel_id, 0), market, category, currency,
           pg_backend_pid() % 8, SUM(participants), COALESCE(SUM(estimated_micros), 0)
    FROM new_costs GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, month, channel_id, market, category, currency, shard) DO UPDATE
    SET messages = s.messages + EXCLUDED.messages, estimated_micros = s.estimated_micros + EXCLUDED.estimated_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Meta's charge of a direct message (00018's, once per statement), on the sharded rows.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH first_priced AS (
        -- A batch may carry sent and delivered of one message: the earliest decides.
        SELECT DISTINCT ON (message_id) message_id, COALESCE(pricing->>'category', '') AS category, pricing->>'type' AS type
        FROM new_statuses WHERE pricing ? 'type'
        ORDER BY message_id, at, message_status_rank(status)
    ), charged AS (
        UPDATE message_costs c SET actual_category = f.category, actual_type = f.type,
            actual_micros = CASE WHEN f.type = 'regular' THEN (
                SELECT CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END FROM country_prices p
                WHERE p.business_id = c.business_id AND p.market = c.market AND p.category = f.category
                  AND p.effective_from <= (c.created_at AT TIME ZONE 'UTC')::date
                ORDER BY p.effective_from DESC LIMIT 1) END
        FROM first_priced f
        WHERE c.message_id = f.message_id AND c.actual_type = ''
        RETURNING c.business_id, (c.created_at AT TIME ZONE 'UTC')::date AS day, COALESCE(c.channel_id, 0) AS channel_id,
            c.market, c.category, c.currency, c.actual_type, c.actual_micros
    ), daily AS (
        INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, shard, charged, actual_micros)
        SELECT business_id, day, channel_id, market, category, currency, pg_backend_pid() % 8, count(*), COALESCE(SUM(actual_micros), 0)
        FROM charged WHERE actual_type = 'regular' GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (business_id, day, channel_id, market, category, currency, shard) DO UPDATE
        SET charged = s.charged + EXCLUDED.charged, actual_micros = s.actual_micros + EXCLUDED.actual_micros
    )
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, shard, charged, actual_micros)
    SELECT business_id, date_trunc('month', day)::date, channel_id, market, category, currency, pg_backend_pid() % 8, count(*), COALESCE(SUM(actual_micros), 0)
    FROM charged WHERE actual_type = 'regular' GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, month, channel_id, market, category, currency, shard) DO UPDATE
    SET charged = s.charged + EXCLUDED.charged, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
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
    INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, shard, charged, actual_micros)
    VALUES (c.business_id, d, COALESCE(c.channel_id, 0), c.market, c.category, c.currency, pg_backend_pid() % 8, 1, COALESCE(price, 0))
    ON CONFLICT (business_id, day, channel_id, market, category, currency, shard) DO UPDATE
    SET charged = s.charged + 1, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, shard, charged, actual_micros)
    VALUES (c.business_id, date_trunc('month', d)::date, COALESCE(c.channel_id, 0), c.market, c.category, c.currency, pg_backend_pid() % 8, 1, COALESCE(price, 0))
    ON CONFLICT (business_id, month, channel_id, market, category, currency, shard) DO UPDATE
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH first_priced AS (
        -- A batch may carry sent and delivered of one message: the earliest decides.
        SELECT DISTINCT ON (message_id) message_id, COALESCE(pricing->>'category', '') AS category, pricing->>'type' AS type
        FROM new_statuses WHERE pricing ? 'type'
        ORDER BY message_id, at, message_status_rank(status)
    ), charged AS (
        UPDATE message_costs c SET actual_category = f.category, actual_type = f.type,
            actual_micros = CASE WHEN f.type = 'regular' THEN (
                SELECT CASE WHEN p.unavailable THEN NULL ELSE p.price_micros END FROM country_prices p
                WHERE p.business_id = c.business_id AND p.market = c.market AND p.category = f.category
                  AND p.effective_from <= (c.created_at AT TIME ZONE 'UTC')::date
                ORDER BY p.effective_from DESC LIMIT 1) END
        FROM first_priced f
        WHERE c.message_id = f.message_id AND c.actual_type = ''
        RETURNING c.business_id, (c.created_at AT TIME ZONE 'UTC')::date AS day, COALESCE(c.channel_id, 0) AS channel_id,
            c.market, c.category, c.currency, c.actual_type, c.actual_micros
    ), daily AS (
        INSERT INTO spend_daily AS s (business_id, day, channel_id, market, category, currency, charged, actual_micros)
        SELECT business_id, day, channel_id, market, category, currency, count(*), COALESCE(SUM(actual_micros), 0)
        FROM charged WHERE actual_type = 'regular' GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT (business_id, day, channel_id, market, category, currency) DO UPDATE
        SET charged = s.charged + EXCLUDED.charged, actual_micros = s.actual_micros + EXCLUDED.actual_micros
    )
    INSERT INTO spend_monthly AS s (business_id, month, channel_id, market, category, currency, charged, actual_micros)
    SELECT business_id, date_trunc('month', day)::date, channel_id, market, category, currency, count(*), COALESCE(SUM(actual_micros), 0)
    FROM charged WHERE actual_type = 'regular' GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (business_id, month, channel_id, market, category, currency) DO UPDATE
    SET charged = s.charged + EXCLUDED.charged, actual_micros = s.actual_micros + EXCLUDED.actual_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- The shards folded back into one row each.
CREATE TEMP TABLE spend_daily_folded ON COMMIT DROP AS
    SELECT business_id, day, channel_id, market, category, currency, SUM(messages)::integer AS messages,
           SUM(estimated_micros)::bigint AS estimated_micros, SUM(charged)::integer AS charged, SUM(actual_micros)::bigint AS actual_micros
    FROM spend_daily GROUP BY 1, 2, 3, 4, 5, 6;
CREATE TEMP TABLE spend_monthly_folded ON COMMIT DROP AS
    SELECT business_id, month, channel_id, market, category, currency, SUM(messages)::integer AS messages,
           SUM(estimated_micros)::bigint AS estimated_micros, SUM(charged)::integer AS charged, SUM(actual_micros)::bigint AS actual_micros
    FROM spend_monthly GROUP BY 1, 2, 3, 4, 5, 6;
DELETE FROM spend_daily;
DELETE FROM spend_monthly;
ALTER TABLE spend_daily DROP CONSTRAINT spend_daily_pkey, DROP COLUMN shard,
    ADD PRIMARY KEY (business_id, day, channel_id, market, category, currency);
ALTER TABLE spend_monthly DROP CONSTRAINT spend_monthly_pkey, DROP COLUMN shard,
    ADD PRIMARY KEY (business_id, month, channel_id, market, category, currency);
INSERT INTO spend_daily (business_id, day, channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros)
    SELECT * FROM spend_daily_folded;
INSERT INTO spend_monthly (business_id, month, channel_id, market, category, currency, messages, estimated_micros, charged, actual_micros)
    SELECT * FROM spend_monthly_folded;
ALTER TABLE message_costs DROP COLUMN participants;
DROP TABLE message_participant_statuses;
