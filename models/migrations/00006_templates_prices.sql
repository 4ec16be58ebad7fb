-- +goose Up
-- WhatsApp templates as Meta lists them, and the rate card they are priced by.

-- Templates keep every status Meta reports (never deleted: messages and
-- campaigns point at them); parameters are the variables of header, body and
-- URL buttons, positional ({{1}}) or named ({{first_name}}).
ALTER TABLE wa_templates
    ADD COLUMN meta_id          text NOT NULL DEFAULT '',
    ADD COLUMN parameter_format text NOT NULL DEFAULT 'positional' CHECK (parameter_format IN ('positional', 'named')),
    ADD COLUMN parameters       jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN status_reason    text NOT NULL DEFAULT '',
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT wa_templates_status CHECK (status IN ('approved', 'pending', 'rejected', 'paused', 'disabled',
        'flagged', 'in_appeal', 'pending_deletion', 'archived', 'limit_exceeded', 'deleted'));
CREATE INDEX wa_templates_meta_id ON wa_templates (channel_id, meta_id) WHERE meta_id <> '';

-- The last template sync of each WhatsApp channel, shown in Settings → Templates.
CREATE TABLE wa_template_syncs (
    channel_id  bigint PRIMARY KEY REFERENCES channels ON DELETE CASCADE,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    synced_at   timestamptz NOT NULL,
    error       text NOT NULL DEFAULT '',
    fetched     integer NOT NULL DEFAULT 0,
    deleted     integer NOT NULL DEFAULT 0
);

-- A rate-card cell may be "n/a" (unavailable): it still supersedes an older
-- price. Authentication-International is its own column on Meta's card.
ALTER TABLE country_prices
    ADD COLUMN unavailable boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT country_prices_category_check,
    ADD CONSTRAINT country_prices_category_check
        CHECK (category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'service'));
CREATE INDEX country_prices_in_force ON country_prices (business_id, effective_from);

-- +goose Down
DROP INDEX country_prices_in_force;
DELETE FROM country_prices WHERE category = 'authentication_international';
ALTER TABLE country_prices
    DROP COLUMN unavailable,
    DROP CONSTRAINT country_prices_category_check,
    ADD CONSTRAINT country_prices_category_check
        CHECK (category IN ('marketing', 'utility', 'authentication', 'service'));
DROP TABLE wa_template_syncs;
DROP INDEX wa_templates_meta_id;
ALTER TABLE wa_templates
    DROP CONSTRAINT wa_templates_status,
    DROP COLUMN meta_id, DROP COLUMN parameter_format, DROP COLUMN parameters,
    DROP COLUMN status_reason, DROP COLUMN updated_at;
