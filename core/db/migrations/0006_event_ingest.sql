-- Postdesk schema, version 6: room for the updates events make to messages.

-- Each batch of events updates the messages it names (delivery, delivered_at, opened_at,
-- clicked_at, updated_at), none of them indexed columns. With room left on each page, such an
-- update can stay on its page as a heap-only tuple (HOT) instead of adding a new entry to every
-- index of messages. The setting applies to rows written from now on; existing pages are left as
-- they are.
ALTER TABLE messages SET (fillfactor = 80);
