-- +goose Up
-- An API token is software unless an admin made it a person's: only a
-- person's token may send with Meta's HUMAN_AGENT tag.
ALTER TABLE api_tokens ADD COLUMN person boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN person;
