-- +goose Up
-- The campaign runner without hot rows. Recording send outcomes and applying
-- status webhooks of one campaign used to serialise (and deadlock) on the
-- campaign_counts shards: the per-row trigger on messages updated the
-- recipients one message at a time, so each transaction upserted the shards
-- in its messages' order, holding them to commit.

-- campaign_counts becomes a ledger: the triggers append one row per
-- (campaign, key) and statement, never updating one, so concurrent writers
-- never wait on each other; a reader sums the rows (as it summed the shards)
-- and FoldCampaignCounts replaces a campaign's rows by their sums now and then.
ALTER TABLE campaign_counts DROP CONSTRAINT campaign_counts_pkey;
ALTER TABLE campaign_counts ALTER COLUMN shard SET DEFAULT 0;
CREATE INDEX campaign_counts_campaign ON campaign_counts (campaign_id, key);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION campaign_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT r.campaign_id, f.key, sum(f.n) FROM new_rows r CROSS JOIN LATERAL (VALUES
            ('total', 1::bigint), (r.status, 1::bigint),
            ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
            ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        WHERE f.n <> 0
        GROUP BY 1, 2;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT campaign_id, key, sum(n) FROM (
            SELECT r.campaign_id, f.key, f.n FROM new_rows r CROSS JOIN LATERAL (VALUES
                ('total', 1::bigint), (r.status, 1::bigint),
                ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
                ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
            UNION ALL
            SELECT r.campaign_id, f.key, -f.n FROM old_rows r CROSS JOIN LATERAL (VALUES
                ('total', 1::bigint), (r.status, 1::bigint),
                ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
                ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        ) d GROUP BY 1, 2 HAVING sum(n) <> 0;
    ELSE
        INSERT INTO campaign_counts (campaign_id, key, n)
        SELECT r.campaign_id, f.key, -sum(f.n) FROM old_rows r
            JOIN campaigns k ON k.id = r.campaign_id -- a cascaded delete of the campaign takes its counts too
            CROSS JOIN LATERAL (VALUES
            ('total', 1::bigint), (r.status, 1::bigint),
            ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
            ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        WHERE f.n <> 0
        GROUP BY 1, 2;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- A campaign message's status moves its recipient forward, now once per
-- statement on messages (a batch of outcomes or of status webhooks updates
-- its recipients in one UPDATE, counted once) instead of once per message.
DROP TRIGGER campaign_recipient_follow ON messages;
DROP FUNCTION campaign_recipient_follow();
-- +goose StatementBegin
CREATE FUNCTION campaign_recipients_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT n.id, n.status, n.status_at, n.error_code, n.error_title FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.direction = 'out' AND o.status IS DISTINCT FROM n.status AND n.status <> 'queued'
    ), upd AS (
        UPDATE campaign_recipients r SET
            status = CASE WHEN m.status = 'played' THEN 'read' ELSE m.status END,
            sent_at = CASE WHEN m.status IN ('sent', 'delivered', 'read', 'played') THEN COALESCE(r.sent_at, m.status_at) ELSE r.sent_at END,
            delivered_at = CASE WHEN m.status IN ('delivered', 'read', 'played') THEN COALESCE(r.delivered_at, m.status_at) ELSE r.delivered_at END,
            read_at = CASE WHEN m.status IN ('read', 'played') THEN COALESCE(r.read_at, m.status_at) ELSE r.read_at END,
            failed_at = CASE WHEN m.status = 'failed' THEN m.status_at ELSE r.failed_at END,
            error_code = CASE WHEN m.status = 'failed' THEN m.error_code ELSE r.error_code END,
            error_title = CASE WHEN m.status = 'failed' THEN m.error_title ELSE r.error_title END
        FROM moved m
        WHERE r.message_id = m.id AND r.status NOT IN ('pending', 'skipped')
          AND message_status_rank(r.status) < message_status_rank(m.status)
        RETURNING r.campaign_id, m.status, m.error_code
    )
    -- 132015/132016 (template paused or disabled): every further send would fail the same way.
    UPDATE campaigns SET status = 'paused', paused_reason = 'template_paused', updated_at = now()
    WHERE id IN (SELECT campaign_id FROM upd WHERE status = 'failed' AND error_code IN (132015, 132016)) AND status = 'running';
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER campaign_recipients_follow AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_recipients_follow();

-- +goose Down
DROP TRIGGER campaign_recipients_follow ON messages;
DROP FUNCTION campaign_recipients_follow();
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
-- The ledger's rows summed back into one row per (campaign, key, shard 0).
CREATE TEMP TABLE folded AS SELECT campaign_id, key, sum(n)::bigint AS n FROM campaign_counts GROUP BY 1, 2;
DELETE FROM campaign_counts;
INSERT INTO campaign_counts (campaign_id, key, shard, n) SELECT campaign_id, key, 0, n FROM folded;
DROP TABLE folded;
DROP INDEX campaign_counts_campaign;
ALTER TABLE campaign_counts ALTER COLUMN shard DROP DEFAULT, ADD PRIMARY KEY (campaign_id, key, shard);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION campaign_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT r.campaign_id, f.key, (r.id % 16)::smallint, sum(f.n) FROM new_rows r CROSS JOIN LATERAL (VALUES
            ('total', 1::bigint), (r.status, 1::bigint),
            ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
            ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        WHERE f.n <> 0
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT campaign_id, key, shard, sum(n) FROM (
            SELECT r.campaign_id, f.key, (r.id % 16)::smallint AS shard, f.n FROM new_rows r CROSS JOIN LATERAL (VALUES
                ('total', 1::bigint), (r.status, 1::bigint),
                ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
                ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
            UNION ALL
            SELECT r.campaign_id, f.key, (r.id % 16)::smallint, -f.n FROM old_rows r CROSS JOIN LATERAL (VALUES
                ('total', 1::bigint), (r.status, 1::bigint),
                ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
                ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
                ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        ) d GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO campaign_counts AS c (campaign_id, key, shard, n)
        SELECT r.campaign_id, f.key, (r.id % 16)::smallint, -sum(f.n) FROM old_rows r
            JOIN campaigns k ON k.id = r.campaign_id
            CROSS JOIN LATERAL (VALUES
            ('total', 1::bigint), (r.status, 1::bigint),
            ('replied', CASE WHEN r.replied_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('clicked', CASE WHEN r.clicked_at IS NOT NULL THEN 1 ELSE 0 END::bigint),
            ('estimated_micros', CASE WHEN r.status NOT IN ('pending', 'skipped') THEN r.price_micros ELSE 0 END),
            ('actual_micros', COALESCE(r.actual_micros, 0))) f(key, n)
        WHERE f.n <> 0
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
