-- +goose Up

-- Meta's charges land once per statement, like the estimates (00015): the
-- statuses a webhook batch inserts are read from the transition table, each
-- message's first priced status decides its actual category and type, and
-- each spend_daily / spend_monthly counter is upserted once per batch, not
-- once per status (per-row upserts inside one transaction walk the version
-- chain the earlier ones left: a 200k-status insert ran at ~1k rows/s).
-- Idempotent as before: a (message, status) replay inserts nothing, and a
-- message whose actual type is already set is never counted again.
DROP TRIGGER message_costs_actual ON message_statuses;
DROP FUNCTION message_costs_actual();
-- +goose StatementBegin
CREATE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- Transition tables cannot name columns (UPDATE OF pricing): one trigger per event.
CREATE TRIGGER message_costs_actual AFTER INSERT ON message_statuses REFERENCING NEW TABLE AS new_statuses
    FOR EACH STATEMENT EXECUTE FUNCTION message_costs_actual();
CREATE TRIGGER message_costs_actual_update AFTER UPDATE ON message_statuses REFERENCING NEW TABLE AS new_statuses
    FOR EACH STATEMENT EXECUTE FUNCTION message_costs_actual();

-- +goose Down
DROP TRIGGER message_costs_actual_update ON message_statuses;
DROP TRIGGER message_costs_actual ON message_statuses;
DROP FUNCTION message_costs_actual();
-- +goose StatementBegin
CREATE FUNCTION message_costs_actual() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c message_costs;
    price bigint;
    d date;
BEGIN
    IF NEW.pricing IS NULL OR NOT NEW.pricing ? 'type' THEN
        RETURN NULL;
    END IF;
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
CREATE TRIGGER message_costs_actual AFTER INSERT OR UPDATE OF pricing ON message_statuses
    FOR EACH ROW EXECUTE FUNCTION message_costs_actual();
