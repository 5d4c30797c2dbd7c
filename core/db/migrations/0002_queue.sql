-- Postdesk schema, version 2: what the send queue needs beyond version 1.

-- A claim hands out a fresh token with the lease; completing or failing a message must present it.
-- A worker whose lease expired (and whose messages another worker took over) is refused that way.
ALTER TABLE messages ADD COLUMN lease_token uuid;

-- Why a message is in the dead-letter state: the provider refused it for good, or every attempt
-- was used up. The last error itself stays in last_error / last_error_class.
ALTER TABLE messages ADD COLUMN dead_reason text
    CHECK (dead_reason IN ('permanent_error', 'attempts_exhausted'));

-- Bulk operations filter by queue and state, and the claim skips paused queues.
CREATE INDEX messages_claimable_queue ON messages (queue_id, priority, scheduled_at, id) WHERE state = 'pending';

-- Workers LISTEN on 'postdesk_queue' and wake when new work arrives; the payload lists the ids of
-- the queues that received pending messages. One notification per statement, however many rows a
-- batch enqueue inserts (PostgreSQL folds identical notifications within a transaction).
CREATE FUNCTION postdesk_notify_queue() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    queue_ids text;
BEGIN
    SELECT string_agg(DISTINCT queue_id::text, ',' ORDER BY queue_id::text) INTO queue_ids
    FROM inserted WHERE state = 'pending';
    IF queue_ids IS NOT NULL THEN
        PERFORM pg_notify('postdesk_queue', queue_ids);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER messages_notify_queue
    AFTER INSERT ON messages REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION postdesk_notify_queue();
