-- +goose Up

-- A thread page and every live tally frame find their polls by message
-- (PollsForMessages); polls had no index but their thread's.
CREATE INDEX polls_message ON polls (message_id) WHERE message_id IS NOT NULL;

-- +goose Down
DROP INDEX polls_message;
