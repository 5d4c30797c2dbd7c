-- Postdesk schema, version 1: the domain as a whole. Later versions add to it; none edits this file.
-- Runs inside the migrator's transaction, in the first schema of search_path.

-- Settings shared by every program and host (plain values; secrets never stand here).
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT current_user
);

-- Hosts that run workers: each has a key pair; secrets are sealed to the public keys listed here.
CREATE TABLE worker_keys (
    id             text PRIMARY KEY,               -- fingerprint of the public key
    host           text NOT NULL,
    public_key     bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    authorised_at  timestamptz,
    authorised_by  text
);

CREATE TABLE providers (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    type                  text NOT NULL
                          CHECK (type IN ('smtp', 'sendgrid', 'mailgun', 'ses', 'postmark', 'http', 'sandbox')),
    enabled               boolean NOT NULL DEFAULT true,
    priority              integer NOT NULL DEFAULT 100,
    rate_per_second       integer CHECK (rate_per_second > 0),
    rate_per_minute       integer CHECK (rate_per_minute > 0),
    rate_per_hour         integer CHECK (rate_per_hour > 0),
    rate_per_day          integer CHECK (rate_per_day > 0),
    pool_size             integer NOT NULL DEFAULT 4 CHECK (pool_size BETWEEN 1 AND 256),
    options               jsonb NOT NULL DEFAULT '{}',   -- non-secret settings (host, port, region, ...)
    health                text NOT NULL DEFAULT 'healthy' CHECK (health IN ('healthy', 'degraded', 'down')),
    health_reason         text,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    circuit_open_until    timestamptz,
    revision              integer NOT NULL DEFAULT 1,     -- optimistic concurrency for editors
    is_demo               boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL DEFAULT current_user
);

-- A provider's secrets (password, API key, signing key), each sealed to one worker key.
CREATE TABLE provider_secrets (
    provider_id    bigint NOT NULL REFERENCES providers ON DELETE CASCADE,
    name           text NOT NULL,
    worker_key_id  text NOT NULL REFERENCES worker_keys ON DELETE CASCADE,
    sealed         bytea NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, name, worker_key_id)
);

CREATE TABLE templates (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    kind            text NOT NULL DEFAULT 'transactional'
                    CHECK (kind IN ('transactional', 'marketing', 'system')),
    default_locale  text NOT NULL DEFAULT 'en',
    description     text NOT NULL DEFAULT '',
    revision        integer NOT NULL DEFAULT 1,
    is_demo         boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT current_user
);

-- Every save is a version; versions are never edited.
CREATE TABLE template_versions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template_id  bigint NOT NULL REFERENCES templates ON DELETE CASCADE,
    locale       text NOT NULL DEFAULT 'en',
    version      integer NOT NULL,
    subject      text NOT NULL,
    html_body    text NOT NULL DEFAULT '',
    text_body    text,                                   -- NULL: generated from the HTML
    note         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL DEFAULT current_user,
    UNIQUE (template_id, locale, version)
);

-- Named JSON fixtures for previews.
CREATE TABLE template_samples (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    template_id  bigint NOT NULL REFERENCES templates ON DELETE CASCADE,
    name         text NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}',
    UNIQUE (template_id, name)
);

CREATE TABLE queues (
    id                  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    priority_class      integer NOT NULL DEFAULT 3 CHECK (priority_class BETWEEN 1 AND 5),
    concurrency_share   integer NOT NULL DEFAULT 25 CHECK (concurrency_share BETWEEN 1 AND 100),
    paused              boolean NOT NULL DEFAULT false,
    tracking            boolean NOT NULL DEFAULT false,
    max_attempts        integer NOT NULL DEFAULT 8 CHECK (max_attempts >= 1),
    retry_base_seconds  integer NOT NULL DEFAULT 30 CHECK (retry_base_seconds >= 1),
    retry_cap_seconds   integer NOT NULL DEFAULT 21600 CHECK (retry_cap_seconds >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO queues (name, priority_class, concurrency_share, tracking, max_attempts) VALUES
    ('transactional', 1, 40, false, 10),
    ('system',        2, 20, false, 10),
    ('marketing',     3, 25, true,   6),
    ('bulk',          4, 15, true,   4);

-- One row per message to one recipient. "state" is the queue's life cycle; "delivery" is what the
-- receiving side reported afterwards (from events), advanced by precedence.
CREATE TABLE messages (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id             integer NOT NULL REFERENCES queues,
    state                text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'processing', 'sent', 'dead', 'cancelled', 'suppressed')),
    priority             smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    scheduled_at         timestamptz NOT NULL DEFAULT now(),
    lease_expires_at     timestamptz,
    leased_by            text,
    attempts             integer NOT NULL DEFAULT 0,
    max_attempts         integer NOT NULL DEFAULT 8,
    idempotency_key      text,
    recipient            text NOT NULL,
    sender               text,
    template_version_id  bigint REFERENCES template_versions,
    data                 jsonb NOT NULL DEFAULT '{}',
    subject              text,                      -- pre-rendered content, when not from a template
    html_body            text,
    text_body            text,
    provider_id          bigint REFERENCES providers ON DELETE SET NULL,
    provider_message_id  text,
    message_id_header    text,                      -- our Message-ID, without angle brackets
    last_error           text,
    last_error_class     text CHECK (last_error_class IN ('transient', 'permanent')),
    delivery             text CHECK (delivery IN ('delivered', 'deferred', 'bounced', 'dropped', 'complained')),
    opened_at            timestamptz,
    clicked_at           timestamptz,
    is_demo              boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    delivered_at         timestamptz
);

CREATE UNIQUE INDEX messages_idempotency_key ON messages (idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The claim path: pending work in priority and schedule order.
CREATE INDEX messages_claimable ON messages (priority, scheduled_at, id) WHERE state = 'pending';
CREATE INDEX messages_leases ON messages (lease_expires_at) WHERE state = 'processing';
CREATE INDEX messages_queue_state ON messages (queue_id, state);
CREATE INDEX messages_provider_message_id ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_recipient ON messages (lower(recipient));
CREATE INDEX messages_created_at ON messages (created_at);

-- Normalised events from provider webhooks and our own tracking endpoints.
CREATE TABLE events (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source               text NOT NULL,               -- sendgrid, mailgun, ses, postmark, tracking, worker
    event_key            text NOT NULL,               -- the provider's stable id, for idempotency
    type                 text NOT NULL CHECK (type IN ('sent', 'delivered', 'deferred', 'bounced', 'dropped',
                                                       'complained', 'opened', 'clicked', 'unsubscribed', 'unknown')),
    subtype              text,                        -- hard / soft for bounces
    machine              boolean NOT NULL DEFAULT false,
    message_id           bigint REFERENCES messages ON DELETE SET NULL,
    provider_id          bigint REFERENCES providers ON DELETE SET NULL,
    provider_message_id  text,
    recipient            text,
    url                  text,
    occurred_at          timestamptz NOT NULL,
    received_at          timestamptz NOT NULL DEFAULT now(),
    raw                  jsonb,
    UNIQUE (source, event_key)
);
CREATE INDEX events_message ON events (message_id);
CREATE INDEX events_occurred_at ON events (occurred_at);

CREATE TABLE suppressions (
    address     text PRIMARY KEY CHECK (address = lower(address)),
    reason      text NOT NULL CHECK (reason IN ('hard_bounce', 'soft_bounces', 'complaint', 'unsubscribe', 'manual')),
    source      text NOT NULL DEFAULT 'manual',
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user
);

-- Counters per day, provider, queue and template, kept as events arrive so that analytics never
-- scans raw events. 0 stands for "none" in the key columns.
CREATE TABLE daily_rollups (
    day           date NOT NULL,
    provider_id   bigint NOT NULL DEFAULT 0,
    queue_id      integer NOT NULL DEFAULT 0,
    template_id   bigint NOT NULL DEFAULT 0,
    sent          bigint NOT NULL DEFAULT 0,
    failed        bigint NOT NULL DEFAULT 0,
    delivered     bigint NOT NULL DEFAULT 0,
    deferred      bigint NOT NULL DEFAULT 0,
    bounced_hard  bigint NOT NULL DEFAULT 0,
    bounced_soft  bigint NOT NULL DEFAULT 0,
    dropped       bigint NOT NULL DEFAULT 0,
    complained    bigint NOT NULL DEFAULT 0,
    opened        bigint NOT NULL DEFAULT 0,
    opened_machine bigint NOT NULL DEFAULT 0,
    clicked       bigint NOT NULL DEFAULT 0,
    clicked_bot   bigint NOT NULL DEFAULT 0,
    unsubscribed  bigint NOT NULL DEFAULT 0,
    send_ms_total bigint NOT NULL DEFAULT 0,          -- for the average send time
    PRIMARY KEY (day, provider_id, queue_id, template_id)
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL DEFAULT current_user,
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
