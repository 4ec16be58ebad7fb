-- +goose Up
-- The outbound pipeline's bookkeeping: send attempts on messages, and the
-- per-channel token buckets every worker of every replica draws from.

-- One row per queued outbound message a worker has claimed, until it is sent
-- or failed. A narrow table of its own, so claiming never rewrites the wide,
-- heavily indexed messages row. started_at: an attempt began and may have
-- reached Meta; until the reconciliation period has passed (or an echo or
-- status gave the message its external id) no other attempt may send it.
-- send_after: the backoff before the next attempt.
CREATE TABLE outbox_sends (
    message_id bigint PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    attempts   integer NOT NULL DEFAULT 0,
    started_at timestamptz,
    send_after timestamptz
);

-- Token buckets, one row per key (a channel, or a channel's audio/video cap).
-- UNLOGGED: after a crash the table is empty and buckets restart full, which
-- is what a fresh process would assume anyway; no WAL for 50 updates a second.
CREATE UNLOGGED TABLE rate_buckets (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Inbound WhatsApp messages not yet charged to their number's bucket: Meta's
-- throughput counts inbound and outbound together. The trigger only appends, so
-- ingest never waits on a bucket row lock; rate_take drains the rows.
CREATE UNLOGGED TABLE rate_inbound (
    channel_id bigint NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_inbound_channel ON rate_inbound (channel_id);

-- +goose StatementBegin
CREATE FUNCTION rate_inbound_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_inbound (channel_id) VALUES (NEW.channel_id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER messages_rate_inbound AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.direction = 'in' AND NEW.app = 'whatsapp' AND NEW.channel_id IS NOT NULL)
    EXECUTE FUNCTION rate_inbound_count();

-- rate_take refills the bucket by the time elapsed on the database's clock (one
-- clock for every replica), charges pending inbound messages, and grants up to
-- p_want tokens. With none granted, wait_seconds is how long until p_want accrue,
-- so a waiting replica draws a useful batch rather than one token at a time.
-- +goose StatementBegin
CREATE FUNCTION rate_take(p_key text, p_rate double precision, p_burst double precision, p_want integer,
                          p_inbound_channel bigint)
RETURNS TABLE (granted integer, wait_seconds double precision)
LANGUAGE plpgsql AS $$
DECLARE
    v_now    timestamptz := clock_timestamp();
    v_tokens double precision;
    v_at     timestamptz;
    v_debit  bigint := 0;
BEGIN
    SELECT b.tokens, b.updated_at INTO v_tokens, v_at FROM rate_buckets b WHERE b.key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (p_key, p_burst, v_now) ON CONFLICT (key) DO NOTHING;
        SELECT b.tokens, b.updated_at INTO v_tokens, v_at FROM rate_buckets b WHERE b.key = p_key FOR UPDATE;
    END IF;
    IF p_inbound_channel IS NOT NULL THEN
        WITH d AS (DELETE FROM rate_inbound r WHERE r.channel_id = p_inbound_channel RETURNING 1)
        SELECT count(*) INTO v_debit FROM d;
    END IF;
    v_tokens := LEAST(p_burst, v_tokens + GREATEST(0, EXTRACT(EPOCH FROM v_now - v_at)::double precision) * p_rate);
    v_tokens := GREATEST(v_tokens - v_debit, -p_burst);
    granted := LEAST(p_want, GREATEST(0, floor(v_tokens)))::integer;
    v_tokens := v_tokens - granted;
    UPDATE rate_buckets SET tokens = v_tokens, updated_at = v_now WHERE key = p_key;
    wait_seconds := CASE WHEN granted > 0 THEN 0 ELSE (LEAST(p_want, p_burst) - v_tokens) / p_rate END;
    RETURN NEXT;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION rate_take(text, double precision, double precision, integer, bigint);
DROP TRIGGER messages_rate_inbound ON messages;
DROP FUNCTION rate_inbound_count();
DROP TABLE rate_inbound, rate_buckets, outbox_sends;
