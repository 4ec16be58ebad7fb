-- +goose Up
-- Restock: products with their WhatsApp restock template, a waitlist with a
-- state per sign-up, and restock runs that claim entries in the database so
-- each sign-up gets at most one message across retries, crashes and replicas.

-- otn: the Page has Meta's One-Time Notification beta (§6.1: a channel flag,
-- never assumed). Only then does the agent's "Notify me" send one_time_notif_req.
ALTER TABLE channels ADD COLUMN otn boolean NOT NULL DEFAULT false;

ALTER TABLE products
    ADD COLUMN wa_template_name     text NOT NULL DEFAULT '',
    ADD COLUMN wa_template_language text NOT NULL DEFAULT '',
    ADD CONSTRAINT products_stock_check CHECK (stock >= 0),
    ADD CONSTRAINT products_sku_check CHECK (sku <> '');

CREATE TABLE restock_runs (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES products ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    -- why it ended: everyone handled, the units back were used up, or the
    -- product sold out again between batches (the rest keep waiting).
    outcome     text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'completed', 'units_used', 'sold_out')),
    units       integer CHECK (units > 0), -- at most this many notified; NULL: everyone waiting
    planned     integer NOT NULL DEFAULT 0, -- the entries it expected to handle, for the progress bar
    handled     integer NOT NULL DEFAULT 0, -- kept by each batch, on the locked row: no counting per batch
    notified    integer NOT NULL DEFAULT 0,
    trigger     text NOT NULL DEFAULT 'stock' CHECK (trigger IN ('stock', 'rerun')),
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX restock_runs_product ON restock_runs (product_id, id DESC);

-- status: waiting → notified (a message was queued: its ticks and errors live
-- on the message) | skipped (the policy said not now; it still waits for the
-- next run) | cancelled. run_id: the run that last handled the entry, so one
-- run never handles an entry twice and a notified entry never runs again.
ALTER TABLE restock_waitlist
    ADD COLUMN status       text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'notified', 'skipped', 'cancelled')),
    ADD COLUMN reason       text NOT NULL DEFAULT '',
    ADD COLUMN thread_id    bigint REFERENCES threads ON DELETE SET NULL,
    ADD COLUMN otn_token_id bigint REFERENCES otn_tokens ON DELETE SET NULL,
    ADD COLUMN run_id       bigint REFERENCES restock_runs ON DELETE SET NULL,
    ADD COLUMN handled_at   timestamptz,
    DROP CONSTRAINT restock_waitlist_product_id_identity_id_key;

-- One open entry per customer and product; a notified customer may sign up again.
CREATE UNIQUE INDEX restock_waitlist_open ON restock_waitlist (product_id, identity_id)
    WHERE status IN ('waiting', 'skipped');
CREATE INDEX restock_waitlist_queue ON restock_waitlist (product_id, created_at, id)
    WHERE status IN ('waiting', 'skipped');
CREATE INDEX restock_waitlist_run ON restock_waitlist (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX restock_waitlist_identity ON restock_waitlist (identity_id);

-- What each run did with each entry it handled, once: the primary key is the
-- claim, and the history of runs survives the entry being handled again later.
CREATE TABLE restock_outcomes (
    run_id     bigint NOT NULL REFERENCES restock_runs ON DELETE CASCADE,
    entry_id   bigint NOT NULL REFERENCES restock_waitlist ON DELETE CASCADE,
    outcome    text NOT NULL CHECK (outcome IN ('notified', 'skipped')),
    reason     text NOT NULL DEFAULT '',
    message_id bigint REFERENCES messages ON DELETE SET NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, entry_id)
);
CREATE INDEX restock_outcomes_message ON restock_outcomes (message_id) WHERE message_id IS NOT NULL;

-- +goose Down
DROP TABLE restock_outcomes;
DROP INDEX restock_waitlist_identity;
DROP INDEX restock_waitlist_run;
DROP INDEX restock_waitlist_queue;
DROP INDEX restock_waitlist_open;
DELETE FROM restock_waitlist a USING restock_waitlist b
    WHERE a.product_id = b.product_id AND a.identity_id = b.identity_id AND a.id > b.id;
ALTER TABLE restock_waitlist
    ADD CONSTRAINT restock_waitlist_product_id_identity_id_key UNIQUE (product_id, identity_id),
    DROP COLUMN handled_at, DROP COLUMN run_id, DROP COLUMN otn_token_id, DROP COLUMN thread_id,
    DROP COLUMN reason, DROP COLUMN status;
DROP TABLE restock_runs;
ALTER TABLE products DROP CONSTRAINT products_sku_check, DROP CONSTRAINT products_stock_check,
    DROP COLUMN wa_template_language, DROP COLUMN wa_template_name;
ALTER TABLE channels DROP COLUMN otn;
