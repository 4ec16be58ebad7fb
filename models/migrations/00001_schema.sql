-- +goose Up
-- The whole product's schema, designed once. Every row that belongs to a
-- customer carries business_id so each query can be scoped to its business.

CREATE TABLE businesses (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND email <> ''),
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    locale        text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'it')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE memberships (
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin', 'agent', 'staff')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    business_id  bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE, -- sha256 of the token; the token itself is shown once
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_business ON api_tokens (business_id);

-- scs pgxstore's table.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

CREATE TABLE channels (
    id                bigserial PRIMARY KEY,
    business_id       bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    app               text NOT NULL CHECK (app IN ('messenger', 'instagram', 'whatsapp')),
    account_id        text NOT NULL CHECK (account_id <> ''), -- Page id, IG account id or WhatsApp phone-number id
    name              text NOT NULL DEFAULT '',
    waba_id           text NOT NULL DEFAULT '',
    display_phone     text NOT NULL DEFAULT '',
    access_token_enc  bytea NOT NULL,  -- AES-GCM with SECRET_KEY
    app_secret_enc    bytea NOT NULL,  -- AES-GCM with SECRET_KEY
    verify_token      text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'needs_reauth', 'disabled')),
    state_reason      text NOT NULL DEFAULT '',
    news_page         boolean NOT NULL DEFAULT false,
    human_agent       boolean NOT NULL DEFAULT false,
    utility_templates boolean NOT NULL DEFAULT false,
    mps               integer NOT NULL DEFAULT 0 CHECK (mps >= 0), -- 0 = the app's default
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app, account_id)
);
CREATE INDEX channels_business ON channels (business_id);

CREATE TABLE contacts (
    id             bigserial PRIMARY KEY,
    business_id    bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    name           text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '', -- E.164
    country        text NOT NULL DEFAULT '', -- ISO 3166-1 alpha-2
    email          text NOT NULL DEFAULT '',
    merged_into_id bigint REFERENCES contacts ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_business ON contacts (business_id, id);
CREATE INDEX contacts_phone ON contacts (business_id, phone) WHERE phone <> '';
CREATE INDEX contacts_name_fts ON contacts USING gin (to_tsvector('simple', name));

CREATE TABLE identities (
    id                     bigserial PRIMARY KEY,
    business_id            bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    contact_id             bigint NOT NULL REFERENCES contacts ON DELETE CASCADE,
    channel_id             bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    app                    text NOT NULL,
    external_id            text NOT NULL CHECK (external_id <> ''), -- PSID, IGSID, wa_id or BSUID
    phone                  text NOT NULL DEFAULT '',
    bsuid                  text NOT NULL DEFAULT '',
    username               text NOT NULL DEFAULT '',
    country                text NOT NULL DEFAULT '',
    display_name           text NOT NULL DEFAULT '',
    profile_pic_url        text NOT NULL DEFAULT '',
    blocked_at             timestamptz,
    reported_at            timestamptz,
    marketing_opt_out_at   timestamptz,
    marketing_opt_out_via  text NOT NULL DEFAULT '', -- e.g. whatsapp_user_preferences, agent, keyword
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, external_id)
);
CREATE INDEX identities_contact ON identities (contact_id);
CREATE INDEX identities_business ON identities (business_id, id);

-- The policy engine's facts: the customer's own latest event of each kind, in
-- Meta's time. Updated with GREATEST so a late retry never moves one back.
CREATE TABLE identity_events (
    identity_id bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('message', 'postback', 'quick_reply', 'reaction', 'optin',
                                              'referral', 'comment', 'call', 'ctwa_referral')),
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (identity_id, kind)
);

CREATE TABLE labels (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    name        text NOT NULL CHECK (name <> ''),
    color       text NOT NULL DEFAULT '#64748b',
    UNIQUE (business_id, name)
);

CREATE TABLE threads (
    id                     bigserial PRIMARY KEY,
    business_id            bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    channel_id             bigint REFERENCES channels ON DELETE CASCADE, -- NULL for a relay spanning apps
    kind                   text NOT NULL CHECK (kind IN ('direct', 'group')),
    origin                 text NOT NULL DEFAULT 'native' CHECK (origin IN ('native', 'relay')),
    direct_identity_id     bigint REFERENCES identities ON DELETE CASCADE,
    external_group_id      text,
    title                  text NOT NULL DEFAULT '',
    apps                   text[] NOT NULL DEFAULT '{}',
    status                 text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'snoozed', 'closed')),
    snoozed_until          timestamptz,
    assignee_id            bigint REFERENCES users ON DELETE SET NULL,
    last_message_at        timestamptz NOT NULL DEFAULT now(),
    last_message_preview   text NOT NULL DEFAULT '',
    last_message_direction text NOT NULL DEFAULT '',
    last_customer_at       timestamptz, -- Meta's time of the last inbound message, for "reply before it closes"
    unread_count           integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'direct') = (direct_identity_id IS NOT NULL) OR origin = 'relay')
);
CREATE UNIQUE INDEX threads_direct ON threads (channel_id, direct_identity_id) WHERE kind = 'direct';
CREATE UNIQUE INDEX threads_group ON threads (channel_id, external_group_id) WHERE kind = 'group' AND external_group_id IS NOT NULL;
-- The inbox list: keyset pagination on (last_message_at, id) within a status.
CREATE INDEX threads_inbox ON threads (business_id, status, last_message_at DESC, id DESC);
CREATE INDEX threads_inbox_all ON threads (business_id, last_message_at DESC, id DESC);
CREATE INDEX threads_assignee ON threads (business_id, assignee_id, last_message_at DESC, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX threads_title_fts ON threads USING gin (to_tsvector('simple', title));

CREATE TABLE thread_labels (
    thread_id bigint NOT NULL REFERENCES threads ON DELETE CASCADE,
    label_id  bigint NOT NULL REFERENCES labels ON DELETE CASCADE,
    PRIMARY KEY (thread_id, label_id)
);
CREATE INDEX thread_labels_label ON thread_labels (label_id, thread_id);

CREATE TABLE thread_participants (
    thread_id   bigint NOT NULL REFERENCES threads ON DELETE CASCADE,
    identity_id bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    role        text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'member', 'admin')),
    joined_at   timestamptz NOT NULL DEFAULT now(),
    left_at     timestamptz,
    PRIMARY KEY (thread_id, identity_id)
);
CREATE INDEX thread_participants_identity ON thread_participants (identity_id);

-- Status order for forward-only transitions; failed is handled apart.
CREATE FUNCTION message_status_rank(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE s
        WHEN 'received' THEN 0 WHEN 'queued' THEN 1 WHEN 'sent' THEN 2
        WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 WHEN 'played' THEN 5
        WHEN 'failed' THEN 6 ELSE -1 END
$$;

CREATE TABLE messages (
    id                   bigserial PRIMARY KEY,
    business_id          bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    thread_id            bigint NOT NULL REFERENCES threads ON DELETE CASCADE,
    channel_id           bigint REFERENCES channels ON DELETE SET NULL,
    direction            text NOT NULL CHECK (direction IN ('in', 'out')),
    app                  text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('text', 'image', 'video', 'audio', 'file', 'sticker', 'location',
                                  'contacts', 'reaction', 'postback', 'story_mention', 'story_reply', 'share', 'poll',
                                  'poll_vote', 'template', 'interactive_reply', 'order', 'system', 'unsupported')),
    external_id          text,
    text                 text NOT NULL DEFAULT '',
    details              jsonb NOT NULL DEFAULT '{}',
    reply_to_id          bigint REFERENCES messages ON DELETE SET NULL,
    reply_to_external_id text NOT NULL DEFAULT '',
    sender_identity_id   bigint REFERENCES identities ON DELETE SET NULL,
    author_user_id       bigint REFERENCES users ON DELETE SET NULL,
    sent_at              timestamptz NOT NULL, -- the provider's timestamp (ours for queued sends)
    status               text NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'played', 'failed')),
    status_at            timestamptz NOT NULL DEFAULT now(),
    error_code           integer,
    error_title          text NOT NULL DEFAULT '',
    messaging_type       text NOT NULL DEFAULT '',
    tag                  text NOT NULL DEFAULT '',
    policy_reason        text NOT NULL DEFAULT '',
    attempts             integer NOT NULL DEFAULT 0,
    deleted_at           timestamptz,
    edited_at            timestamptz,
    edit_count           integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    tsv                  tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
CREATE UNIQUE INDEX messages_external ON messages (channel_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX messages_thread ON messages (thread_id, sent_at, id);
CREATE INDEX messages_fts ON messages USING gin (tsv);
CREATE INDEX messages_outbox ON messages (status, created_at) WHERE direction = 'out' AND status = 'queued';

-- Each status a message reached, once: (wamid, status) replays change nothing.
CREATE TABLE message_statuses (
    message_id bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    status     text NOT NULL,
    at         timestamptz NOT NULL,
    pricing    jsonb,
    PRIMARY KEY (message_id, status)
);

CREATE TABLE attachments (
    id          bigserial PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    kind        text NOT NULL,
    url         text NOT NULL DEFAULT '',
    media_id    text NOT NULL DEFAULT '',
    mime_type   text NOT NULL DEFAULT '',
    sha256      text NOT NULL DEFAULT '',
    filename    text NOT NULL DEFAULT '',
    caption     text NOT NULL DEFAULT '',
    size_bytes  bigint NOT NULL DEFAULT 0,
    cached_url  text NOT NULL DEFAULT '', -- WhatsApp media URL fetched through the Graph API on first view
    cached_at   timestamptz
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE reactions (
    id          bigserial PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages ON DELETE CASCADE,
    identity_id bigint REFERENCES identities ON DELETE CASCADE,
    user_id     bigint REFERENCES users ON DELETE CASCADE,
    emoji       text NOT NULL,
    reacted_at  timestamptz NOT NULL,
    CHECK ((identity_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX reactions_identity ON reactions (message_id, identity_id) WHERE identity_id IS NOT NULL;
CREATE UNIQUE INDEX reactions_user ON reactions (message_id, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE polls (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    thread_id   bigint NOT NULL REFERENCES threads ON DELETE CASCADE,
    message_id  bigint REFERENCES messages ON DELETE SET NULL,
    question    text NOT NULL DEFAULT '',
    multiple    boolean NOT NULL DEFAULT false,
    opaque      boolean NOT NULL DEFAULT false, -- Meta delivered no content (WhatsApp poll_creation)
    closes_at   timestamptz,
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX polls_thread ON polls (thread_id);

CREATE TABLE poll_options (
    id       bigserial PRIMARY KEY,
    poll_id  bigint NOT NULL REFERENCES polls ON DELETE CASCADE,
    position integer NOT NULL,
    text     text NOT NULL,
    UNIQUE (poll_id, position)
);

-- One current vote per identity and poll; a new vote replaces the old one.
CREATE TABLE poll_votes (
    poll_id     bigint NOT NULL REFERENCES polls ON DELETE CASCADE,
    identity_id bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    option_ids  bigint[] NOT NULL,
    voted_at    timestamptz NOT NULL,
    PRIMARY KEY (poll_id, identity_id)
);

CREATE TABLE raw_webhooks (
    id           bigserial PRIMARY KEY,
    app          text NOT NULL,
    body         bytea NOT NULL,
    signature    text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    outcome      text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'processed', 'unknown_account', 'failed')),
    error        text NOT NULL DEFAULT '',
    attempts     integer NOT NULL DEFAULT 0
);
CREATE INDEX raw_webhooks_pending ON raw_webhooks (id) WHERE outcome = 'pending';
CREATE INDEX raw_webhooks_problems ON raw_webhooks (received_at DESC) WHERE outcome IN ('unknown_account', 'failed');

CREATE TABLE otn_tokens (
    id                 bigserial PRIMARY KEY,
    business_id        bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    identity_id        bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    kind               text NOT NULL DEFAULT 'one_time' CHECK (kind IN ('one_time', 'recurring')),
    topic              text NOT NULL DEFAULT '',
    payload            text NOT NULL DEFAULT '',
    token_enc          bytea NOT NULL,
    token_hash         bytea NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz,
    used_by_message_id bigint REFERENCES messages ON DELETE SET NULL
);
CREATE INDEX otn_tokens_identity ON otn_tokens (identity_id, expires_at) WHERE used_at IS NULL;

CREATE TABLE wa_templates (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    channel_id  bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    name        text NOT NULL,
    language    text NOT NULL,
    category    text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
    status      text NOT NULL DEFAULT 'approved',
    body        text NOT NULL DEFAULT '', -- with {{1}}, {{2}} placeholders
    components  jsonb NOT NULL DEFAULT '[]',
    UNIQUE (channel_id, name, language)
);

CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    sku         text NOT NULL,
    name        text NOT NULL,
    url         text NOT NULL DEFAULT '',
    image_url   text NOT NULL DEFAULT '',
    stock       integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (business_id, sku)
);

CREATE TABLE restock_waitlist (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    product_id  bigint NOT NULL REFERENCES products ON DELETE CASCADE,
    identity_id bigint NOT NULL REFERENCES identities ON DELETE CASCADE,
    source      text NOT NULL DEFAULT 'staff', -- staff, otn_optin, keyword
    created_by  bigint REFERENCES users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz,
    message_id  bigint REFERENCES messages ON DELETE SET NULL,
    UNIQUE (product_id, identity_id)
);

CREATE TABLE campaigns (
    id                bigserial PRIMARY KEY,
    business_id       bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    channel_id        bigint NOT NULL REFERENCES channels ON DELETE CASCADE,
    name              text NOT NULL,
    template_id       bigint REFERENCES wa_templates ON DELETE SET NULL,
    variables         jsonb NOT NULL DEFAULT '[]',
    audience          jsonb NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')),
    scheduled_at      timestamptz,
    started_at        timestamptz,
    finished_at       timestamptz,
    budget_micros     bigint NOT NULL DEFAULT 0 CHECK (budget_micros >= 0),
    currency          text NOT NULL DEFAULT 'EUR',
    spent_micros      bigint NOT NULL DEFAULT 0,
    revenue_micros    bigint NOT NULL DEFAULT 0,
    created_by        bigint REFERENCES users ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_business ON campaigns (business_id, created_at DESC);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

-- Analytics survive a deleted identity (SET NULL), as listmonk's do.
CREATE TABLE campaign_recipients (
    id            bigserial PRIMARY KEY,
    campaign_id   bigint NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    identity_id   bigint REFERENCES identities ON DELETE SET NULL,
    message_id    bigint REFERENCES messages ON DELETE SET NULL,
    country       text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'skipped', 'queued', 'sent', 'delivered', 'read', 'failed')),
    skip_reason   text NOT NULL DEFAULT '',
    price_micros  bigint NOT NULL DEFAULT 0,
    currency      text NOT NULL DEFAULT '',
    queued_at     timestamptz,
    sent_at       timestamptz,
    delivered_at  timestamptz,
    read_at       timestamptz,
    replied_at    timestamptz,
    clicked_at    timestamptz,
    failed_at     timestamptz,
    error_code    integer,
    error_title   text NOT NULL DEFAULT '',
    UNIQUE (campaign_id, identity_id)
);
CREATE INDEX campaign_recipients_status ON campaign_recipients (campaign_id, status);

-- Per-message prices by market (an ISO country or one of Meta's regions),
-- category and date; exact integer micros, never floats.
CREATE TABLE country_prices (
    id             bigserial PRIMARY KEY,
    business_id    bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    market         text NOT NULL,
    category       text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication', 'service')),
    price_micros   bigint NOT NULL CHECK (price_micros >= 0),
    currency       text NOT NULL,
    effective_from date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (business_id, market, category, effective_from)
);

CREATE TABLE notes (
    id             bigserial PRIMARY KEY,
    business_id    bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    thread_id      bigint NOT NULL REFERENCES threads ON DELETE CASCADE,
    author_user_id bigint REFERENCES users ON DELETE SET NULL,
    body           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_thread ON notes (thread_id, created_at);

CREATE TABLE canned_responses (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    shortcut    text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]+$'),
    body        text NOT NULL,
    UNIQUE (business_id, shortcut)
);

CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    business_id bigint NOT NULL REFERENCES businesses ON DELETE CASCADE,
    user_id     bigint REFERENCES users ON DELETE SET NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   bigint,
    before      jsonb,
    after       jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_business ON audit_events (business_id, created_at DESC);

-- +goose Down
DROP TABLE audit_events, canned_responses, notes, country_prices, campaign_recipients, campaigns,
    restock_waitlist, products, wa_templates, otn_tokens, raw_webhooks, poll_votes, poll_options, polls,
    reactions, attachments, message_statuses, messages, thread_participants, thread_labels, threads, labels,
    identity_events, identities, contacts, channels, sessions, api_tokens, memberships, users, businesses;
DROP FUNCTION message_status_rank(text);
