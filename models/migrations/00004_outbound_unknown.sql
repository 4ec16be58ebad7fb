-- +goose Up
-- A send whose outcome is unknown: its request left for Meta, and no answer,
-- echo or status came back within the reconciliation window. It is never sent
-- again on its own; an agent may send it again.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('received', 'queued', 'unknown', 'sent', 'delivered', 'read', 'played', 'failed'));

-- unknown sits between queued and sent: a late echo or status still moves it forward.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE s
        WHEN 'received' THEN 0 WHEN 'queued' THEN 1 WHEN 'unknown' THEN 2 WHEN 'sent' THEN 3
        WHEN 'delivered' THEN 4 WHEN 'read' THEN 5 WHEN 'played' THEN 6
        WHEN 'failed' THEN 7 ELSE -1 END
$$;
-- +goose StatementEnd

-- leaving_at: the claimed attempt's request is about to leave for Meta (set
-- just before the Graph call, fenced by started_at). A claim without it never
-- reached Meta and may be taken over; one with it waits for evidence, then
-- becomes unknown.
ALTER TABLE outbox_sends ADD COLUMN leaving_at timestamptz;
-- job_id: the River job holding the claim. It takes its own claim back as
-- soon as its backoff ends; any other job only after the lease, so a claim
-- stays with its job between a retry and the job's snooze.
ALTER TABLE outbox_sends ADD COLUMN job_id bigint;
-- finished_at: the send came to an end (sent, failed, unknown). The row is
-- kept a while, so a claim that read the message as queued just before its
-- end conflicts with it instead of inserting a fresh claim.
ALTER TABLE outbox_sends ADD COLUMN finished_at timestamptz;

-- +goose Down
ALTER TABLE outbox_sends DROP COLUMN leaving_at, DROP COLUMN job_id, DROP COLUMN finished_at;
UPDATE messages SET status = 'failed', error_title = 'Outcome unknown' WHERE status = 'unknown';
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION message_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE s
        WHEN 'received' THEN 0 WHEN 'queued' THEN 1 WHEN 'sent' THEN 2
        WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5
        WHEN 'failed' THEN 6 ELSE -1 END
$$;
-- +goose StatementEnd
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'played', 'failed'));
