-- +goose Up
-- The inbound rate rows are written once per INSERT statement from its
-- transition table instead of once per row: the inbound pipeline inserts a
-- batch's messages in one statement, and a row trigger ran a plpgsql
-- function and a one-row INSERT for each of them. Still one rate_inbound row
-- per inbound WhatsApp message, as rate_take expects.
DROP TRIGGER messages_rate_inbound ON messages;

-- +goose StatementBegin
CREATE FUNCTION rate_inbound_count_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rate_inbound (channel_id)
    SELECT channel_id FROM new_messages
    WHERE direction = 'in' AND app = 'whatsapp' AND channel_id IS NOT NULL;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER messages_rate_inbound AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION rate_inbound_count_all();

-- +goose Down
DROP TRIGGER messages_rate_inbound ON messages;
DROP FUNCTION rate_inbound_count_all();
CREATE TRIGGER messages_rate_inbound AFTER INSERT ON messages
    FOR EACH ROW WHEN (NEW.direction = 'in' AND NEW.app = 'whatsapp' AND NEW.channel_id IS NOT NULL)
    EXECUTE FUNCTION rate_inbound_count();
