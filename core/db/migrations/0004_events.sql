-- Postdesk schema, version 4: what webhook and tracking events need beyond version 1.

-- Webhook verification secrets (SendGrid public key, Mailgun signing key, Postmark credentials)
-- and the tracking link key, each sealed to one worker key, like provider_secrets. The webhook
-- server's host opens them with its host key.
CREATE TABLE webhook_secrets (
    provider       text NOT NULL CHECK (provider IN ('sendgrid', 'mailgun', 'postmark', 'ses', 'tracking')),
    name           text NOT NULL,
    worker_key_id  text NOT NULL REFERENCES worker_keys ON DELETE CASCADE,
    sealed         bytea NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, name, worker_key_id)
);

-- Mailgun tokens already seen: a repeated token is a replay and is refused.
CREATE TABLE mailgun_tokens (
    token    text PRIMARY KEY,
    seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mailgun_tokens_seen_at ON mailgun_tokens (seen_at);

-- Amazon SNS signing certificates: fetched over HTTPS from sns.<region>.amazonaws.com and cached,
-- or loaded by an admin for hosts without internet access.
CREATE TABLE sns_certificates (
    url         text PRIMARY KEY,
    pem         text NOT NULL,
    origin      text NOT NULL CHECK (origin IN ('fetched', 'preloaded')),
    stored_at   timestamptz NOT NULL DEFAULT now()
);

-- Soft bounces per address; at five the address is suppressed.
CREATE TABLE soft_bounce_counts (
    address   text PRIMARY KEY,
    bounces   integer NOT NULL DEFAULT 0,
    last_at   timestamptz NOT NULL
);

-- Events of types we do not know are counted too.
ALTER TABLE daily_rollups ADD COLUMN unknown bigint NOT NULL DEFAULT 0;

-- Events join messages by our own Message-ID as well as by the provider's id.
CREATE INDEX messages_message_id_header ON messages (message_id_header)
    WHERE message_id_header IS NOT NULL;

-- How final a delivery outcome is: a later event never replaces a more final one
-- (a late "delivered" never hides a "bounced").
CREATE FUNCTION postdesk_delivery_rank(delivery text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE delivery
        WHEN 'deferred'   THEN 1
        WHEN 'delivered'  THEN 2
        WHEN 'dropped'    THEN 3
        WHEN 'bounced'    THEN 4
        WHEN 'complained' THEN 5
        ELSE 0 END
$$;
