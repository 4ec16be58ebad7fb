-- +goose Up
-- What a relay group member writes to leave the group, per business (issue 14):
-- a message that is only one of these words (any case) takes them out.
ALTER TABLE businesses ADD COLUMN relay_leave_words text[] NOT NULL DEFAULT '{esci,leave}';

-- +goose Down
ALTER TABLE businesses DROP COLUMN relay_leave_words;
