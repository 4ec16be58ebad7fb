-- +goose Up
-- WhatsApp marketing campaigns: the template and its variable mapping, the
-- schedule in the chosen time zone, the runner's pace and its pauses; and a
-- recipient row per person that follows its message's status, with counts
-- kept incrementally so the live page never counts recipients.

ALTER TABLE campaigns
    -- template: a WhatsApp template by name and language (template_id is the
    -- synced row it resolved to); window: a free-form UPDATE on Messenger or
    -- Instagram to the customers whose 24-hour window is open now.
    ADD COLUMN kind              text NOT NULL DEFAULT 'template' CHECK (kind IN ('template', 'window')),
    ADD COLUMN template_name     text NOT NULL DEFAULT '',
    ADD COLUMN template_language text NOT NULL DEFAULT '',
    ADD COLUMN message_text      text NOT NULL DEFAULT '', -- a window campaign's text
    ADD COLUMN time_zone         text NOT NULL DEFAULT 'UTC',
    ADD COLUMN rate_per_second   integer NOT NULL DEFAULT 0 CHECK (rate_per_second >= 0), -- 0: the channel's limit only
    -- why a campaign is paused: '' (by hand), budget_exhausted, error_rate, template_paused
    ADD COLUMN paused_reason     text NOT NULL DEFAULT '',
    ADD COLUMN parent_id         bigint REFERENCES campaigns ON DELETE SET NULL, -- a follow-up's original
    ADD COLUMN dry_run           boolean NOT NULL DEFAULT false,               -- everything but the Graph call
    ADD COLUMN planned           integer NOT NULL DEFAULT 0,                   -- recipients when it started
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now();
CREATE INDEX campaigns_running ON campaigns (id) WHERE status = 'running';
CREATE INDEX campaigns_parent ON campaigns (parent_id) WHERE parent_id IS NOT NULL;

-- Recipient status: pending (claimed by no batch yet) → queued (its message is
-- in the outbox) → unknown | sent → delivered → read, or failed; skipped (the
-- audience excluded it, skip_reason says why). message status drives it below.
ALTER TABLE campaign_recipients
    DROP CONSTRAINT campaign_recipients_status_check,
    ADD CONSTRAINT campaign_recipients_status_check
        CHECK (status IN ('pending', 'skipped', 'queued', 'unknown', 'sent', 'delivered', 'read', 'failed')),
    ADD COLUMN contact_id    bigint REFERENCES contacts ON DELETE SET NULL,
    ADD COLUMN thread_id     bigint REFERENCES threads ON DELETE SET NULL,
    ADD COLUMN market        text NOT NULL DEFAULT '',
    ADD COLUMN actual_micros bigint, -- what Meta charged at our rate (message_costs.actual_micros)
    ADD COLUMN variables     jsonb;  -- the values it was sent with
CREATE INDEX campaign_recipients_message ON campaign_recipients (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, id) WHERE status = 'pending';
CREATE INDEX campaign_recipients_outcome ON campaign_recipients (campaign_id, queued_at DESC) WHERE queued_at IS NOT NULL;
CREATE INDEX campaign_recipients_identity ON campaign_recipients (identity_id);

-- Counts per campaign, kept by the statement triggers below: key is a status,
-- 'total', 'replied', 'clicked', 'estimated_micros' or 'actual_micros'. Spread
-- over 16 shards (recipient id % 16) so concurrent status webhooks of one
-- campaign rarely wait on the same row; a reader sums the shards.
CREATE TABLE campaign_counts (
    campaign_id bigint NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    key         text NOT NULL,
    shard       smallint NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, key, shard)
);

-- What one recipient row contributes to its campaign's counts.
-- +goose StatementBegin
CREATE FUNCTION campaign_recipient_facts(status text, replied_at timestamptz, clicked_at timestamptz, message_id bigint,
        price bigint, actual bigint) RETURNS TABLE (key text, n bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'total', 1::bigint
    UNION ALL SELECT status, 1
    UNION ALL SELECT 'replied', 1 WHERE replied_at IS NOT NULL
    UNION ALL SELECT 'clicked', 1 WHERE clicked_at IS NOT NULL
    UNION ALL SELECT 'estimated_micros', price WHERE status NOT IN ('pending', 'skipped') AND price <> 0
    UNION ALL SELECT 'actual_micros', actual WHERE actual IS NOT NULL AND actual <> 0
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION campaign_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT r.campaign_id, f.key, (r.id % 16)::smallint, sum(f.n) FROM new_rows r,
            LATERAL campaign_recipient_facts(r.status, r.replied_at, r.clicked_at, r.message_id, r.price_micros, r.actual_micros) f
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT campaign_id, key, shard, sum(n) FROM (
            SELECT r.campaign_id, f.key, (r.id % 16)::smallint AS shard, f.n FROM new_rows r,
                LATERAL campaign_recipient_facts(r.status, r.replied_at, r.clicked_at, r.message_id, r.price_micros, r.actual_micros) f
            UNION ALL
            SELECT r.campaign_id, f.key, (r.id % 16)::smallint, -f.n FROM old_rows r,
                LATERAL campaign_recipient_facts(r.status, r.replied_at, r.clicked_at, r.message_id, r.price_micros, r.actual_micros) f
        ) d GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT r.campaign_id, f.key, (r.id % 16)::smallint, -sum(f.n) FROM old_rows r
            JOIN campaigns k ON k.id = r.campaign_id, -- a cascaded delete of the campaign takes its counts too
            LATERAL campaign_recipient_facts(r.status, r.replied_at, r.clicked_at, r.message_id, r.price_micros, r.actual_micros) f
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_counts_insert AFTER INSERT ON campaign_recipients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_apply();
CREATE TRIGGER campaign_counts_update AFTER UPDATE ON campaign_recipients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_apply();
CREATE TRIGGER campaign_counts_delete AFTER DELETE ON campaign_recipients
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_apply();

-- A campaign message's status moves its recipient forward (never back), with
-- the time of each step; a step Meta skipped (read without delivered) takes
-- the later one's time. 132015/132016 (template paused or disabled) pause the
-- running campaign: every further send would fail the same way.
-- +goose StatementBegin
CREATE FUNCTION campaign_recipient_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rank integer := message_status_rank(NEW.status);
    camp bigint;
BEGIN
    UPDATE campaign_recipients r SET
        status = CASE WHEN NEW.status = 'played' THEN 'read' ELSE NEW.status END,
        sent_at = CASE WHEN NEW.status IN ('sent', 'delivered', 'read', 'played') THEN COALESCE(r.sent_at, NEW.status_at) ELSE r.sent_at END,
        delivered_at = CASE WHEN NEW.status IN ('delivered', 'read', 'played') THEN COALESCE(r.delivered_at, NEW.status_at) ELSE r.delivered_at END,
        read_at = CASE WHEN NEW.status IN ('read', 'played') THEN COALESCE(r.read_at, NEW.status_at) ELSE r.read_at END,
        failed_at = CASE WHEN NEW.status = 'failed' THEN NEW.status_at ELSE r.failed_at END,
        error_code = CASE WHEN NEW.status = 'failed' THEN NEW.error_code ELSE r.error_code END,
        error_title = CASE WHEN NEW.status = 'failed' THEN NEW.error_title ELSE r.error_title END
    WHERE r.message_id = NEW.id AND r.status NOT IN ('pending', 'skipped')
      AND message_status_rank(r.status) < rank
    RETURNING r.campaign_id INTO camp;
    IF FOUND AND NEW.status = 'failed' AND NEW.error_code IN (132015, 132016) THEN
        UPDATE campaigns SET status = 'paused', paused_reason = 'template_paused', updated_at = now()
        WHERE id = camp AND status = 'running';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_recipient_follow AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (NEW.direction = 'out' AND OLD.status IS DISTINCT FROM NEW.status AND NEW.status <> 'queued')
    EXECUTE FUNCTION campaign_recipient_follow();

-- The actual cost Meta's pricing decided lands on the recipient too.
-- +goose StatementBegin
CREATE FUNCTION campaign_recipient_cost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_recipients SET actual_micros = NEW.actual_micros
    WHERE message_id = NEW.message_id AND actual_micros IS DISTINCT FROM NEW.actual_micros;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_recipient_cost AFTER UPDATE OF actual_micros ON message_costs
    FOR EACH ROW WHEN (NEW.actual_micros IS DISTINCT FROM OLD.actual_micros)
    EXECUTE FUNCTION campaign_recipient_cost();

-- Meta pausing or disabling a template (its status webhook, or a sync) pauses
-- the campaigns running on it.
-- +goose StatementBegin
CREATE FUNCTION campaign_template_paused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET status = 'paused', paused_reason = 'template_paused', updated_at = now()
    WHERE template_id = NEW.id AND status = 'running';
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_template_paused AFTER UPDATE OF status ON wa_templates
    FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('paused', 'disabled', 'rejected', 'deleted', 'pending_deletion', 'archived'))
    EXECUTE FUNCTION campaign_template_paused();

-- +goose Down
DROP TRIGGER campaign_template_paused ON wa_templates;
DROP FUNCTION campaign_template_paused();
DROP TRIGGER campaign_recipient_cost ON message_costs;
DROP FUNCTION campaign_recipient_cost();
DROP TRIGGER campaign_recipient_follow ON messages;
DROP FUNCTION campaign_recipient_follow();
DROP TRIGGER campaign_counts_delete ON campaign_recipients;
DROP TRIGGER campaign_counts_update ON campaign_recipients;
DROP TRIGGER campaign_counts_insert ON campaign_recipients;
DROP FUNCTION campaign_counts_apply();
DROP FUNCTION campaign_recipient_facts(text, timestamptz, timestamptz, bigint, bigint, bigint);
DROP TABLE campaign_counts;
DROP INDEX campaign_recipients_identity;
DROP INDEX campaign_recipients_outcome;
DROP INDEX campaign_recipients_pending;
DROP INDEX campaign_recipients_message;
UPDATE campaign_recipients SET status = 'queued' WHERE status = 'unknown';
ALTER TABLE campaign_recipients
    DROP COLUMN variables, DROP COLUMN actual_micros, DROP COLUMN market, DROP COLUMN thread_id, DROP COLUMN contact_id,
    DROP CONSTRAINT campaign_recipients_status_check,
    ADD CONSTRAINT campaign_recipients_status_check
        CHECK (status IN ('pending', 'skipped', 'queued', 'sent', 'delivered', 'read', 'failed'));
DROP INDEX campaigns_parent;
DROP INDEX campaigns_running;
ALTER TABLE campaigns
    DROP COLUMN updated_at, DROP COLUMN planned, DROP COLUMN dry_run, DROP COLUMN parent_id, DROP COLUMN paused_reason,
    DROP COLUMN rate_per_second, DROP COLUMN time_zone, DROP COLUMN message_text, DROP COLUMN template_language,
    DROP COLUMN template_name, DROP COLUMN kind;
