-- +goose Up
-- Relay groups and polls (issue 14). A relay group is a thread of origin
-- 'relay' whose members each keep their own direct chat with the business;
-- every message is re-sent to the others as one leg per member.

-- relay marks a membership of a relay group. A customer is in at most one
-- active relay group per channel (an identity belongs to one channel): the
-- only routing of their direct chat that is never ambiguous.
ALTER TABLE thread_participants ADD COLUMN relay boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX thread_participants_one_relay ON thread_participants (identity_id)
    WHERE relay AND left_at IS NULL;

-- One leg of a group message (or poll) to one member: the message queued on
-- the member's direct thread, or the policy's refusal when nothing was queued.
CREATE TABLE relay_legs (
    id               bigserial PRIMARY KEY,
    business_id      bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    group_message_id bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    identity_id      bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    leg_message_id   bigint REFERENCES messages ON DELETE SET NULL,
    refusal          text NOT NULL DEFAULT '', -- a policy reason code; '' when queued
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (group_message_id, identity_id)
);
CREATE INDEX relay_legs_leg ON relay_legs (leg_message_id) WHERE leg_message_id IS NOT NULL;

-- A closed poll keeps its votes; later votes are kept as messages only.
ALTER TABLE polls ADD COLUMN closed_at timestamptz;
ALTER TABLE poll_votes ADD COLUMN app text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE poll_votes DROP COLUMN app;
ALTER TABLE polls DROP COLUMN closed_at;
DROP TABLE relay_legs;
DROP INDEX thread_participants_one_relay;
ALTER TABLE thread_participants DROP COLUMN relay;
