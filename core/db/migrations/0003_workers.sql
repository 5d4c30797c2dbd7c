-- Postdesk schema, version 3: what send workers share across processes and hosts.

-- The sandbox provider keeps each composed message here instead of sending it.
CREATE TABLE sandbox_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id    bigint REFERENCES providers ON DELETE CASCADE,
    message_id     bigint REFERENCES messages ON DELETE SET NULL,  -- the queued message, when there is one
    message_id_header text NOT NULL,                               -- our Message-ID, without brackets
    envelope_from  text NOT NULL DEFAULT '',
    recipients     text[] NOT NULL,
    subject        text NOT NULL DEFAULT '',
    raw            bytea NOT NULL,                                 -- the RFC 5322 message as composed
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_messages_provider ON sandbox_messages (provider_id, id);

-- Rate limits shared by every worker on every host: a counter per provider and fixed window.
CREATE TABLE provider_rate_windows (
    provider_id   bigint NOT NULL REFERENCES providers ON DELETE CASCADE,
    span          text NOT NULL CHECK (span IN ('second', 'minute', 'hour', 'day')),
    window_start  timestamptz NOT NULL,
    used          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, span)
);

-- Grants up to `wanted` sends to a provider now, within every limit it has; returns how many.
-- The provider row is locked for the moment, so concurrent workers never over-grant.
CREATE FUNCTION postdesk_take_sends(p_provider bigint, p_wanted integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p        providers%ROWTYPE;
    granted  integer := p_wanted;
    spans    text[] := ARRAY['second', 'minute', 'hour', 'day'];
    limits   integer[];
    i        integer;
    w_start  timestamptz;
    w_used   integer;
BEGIN
    SELECT * INTO p FROM providers WHERE id = p_provider FOR UPDATE;
    IF NOT FOUND OR p_wanted <= 0 THEN
        RETURN 0;
    END IF;
    limits := ARRAY[p.rate_per_second, p.rate_per_minute, p.rate_per_hour, p.rate_per_day];
    FOR i IN 1..4 LOOP
        CONTINUE WHEN limits[i] IS NULL;
        w_start := date_trunc(spans[i], clock_timestamp());
        SELECT CASE WHEN window_start = w_start THEN used ELSE 0 END INTO w_used
        FROM provider_rate_windows WHERE provider_id = p_provider AND span = spans[i];
        granted := least(granted, greatest(limits[i] - coalesce(w_used, 0), 0));
    END LOOP;
    IF granted > 0 THEN
        FOR i IN 1..4 LOOP
            CONTINUE WHEN limits[i] IS NULL;
            w_start := date_trunc(spans[i], clock_timestamp());
            INSERT INTO provider_rate_windows AS w (provider_id, span, window_start, used)
            VALUES (p_provider, spans[i], w_start, granted)
            ON CONFLICT (provider_id, span) DO UPDATE
                SET used = CASE WHEN w.window_start = excluded.window_start THEN w.used + excluded.used
                                ELSE excluded.used END,
                    window_start = excluded.window_start;
        END LOOP;
    END IF;
    RETURN granted;
END;
$$;

-- Hand back sends that were granted but not used (a batch that came out smaller).
CREATE FUNCTION postdesk_return_sends(p_provider bigint, p_count integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE provider_rate_windows
    SET used = greatest(used - p_count, 0)
    WHERE provider_id = p_provider
      AND window_start = date_trunc(span, clock_timestamp());
$$;

-- Each running worker process says it is alive; the dashboards count active workers from here.
CREATE TABLE workers (
    id           text PRIMARY KEY,                 -- host:pid:random
    host         text NOT NULL,
    pid          integer NOT NULL,
    program      text NOT NULL,                    -- postdeskd, postdesk
    threads      integer NOT NULL DEFAULT 1,
    queues       text[] NOT NULL DEFAULT '{}',     -- empty: all queues
    started_at   timestamptz NOT NULL DEFAULT now(),
    seen_at      timestamptz NOT NULL DEFAULT now(),
    sent         bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    stopped_at   timestamptz
);

-- Time a message spent with the provider, for the dashboards' average send time.
ALTER TABLE messages ADD COLUMN send_ms integer;

-- Editors and workers learn about provider changes at once.
CREATE FUNCTION postdesk_notify_providers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('postdesk_providers', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER providers_notify
    AFTER INSERT OR UPDATE OF name, type, enabled, priority, rate_per_second, rate_per_minute,
        rate_per_hour, rate_per_day, pool_size, options OR DELETE ON providers
    FOR EACH STATEMENT EXECUTE FUNCTION postdesk_notify_providers();
