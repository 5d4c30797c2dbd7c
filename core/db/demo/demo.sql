-- Demo data: a believable month of an organisation's outbound email, for trying Postdesk out.
-- Every row is marked is_demo; nothing here holds a real secret. Runs inside one transaction.
SELECT setseed(0.4242);

INSERT INTO providers (name, type, enabled, priority, rate_per_second, rate_per_hour, pool_size, options, health, health_reason, is_demo) VALUES
    ('sandbox',       'sandbox',  true,  10, NULL, NULL,   4, '{"note": "stores messages instead of sending them"}', 'healthy', NULL, true),
    ('sendgrid-main', 'sendgrid', true,  20, 100, 200000, 8, '{"base_url": "https://api.sendgrid.com"}', 'healthy', NULL, true),
    ('ses-eu',        'ses',      true,  30, 14,  50000,  8, '{"region": "eu-west-1"}', 'degraded', 'rate limited (429) at 09:12', true),
    ('mailgun-eu',    'mailgun',  true,  40, 50,  NULL,   4, '{"domain": "mg.example.org", "region": "eu"}', 'healthy', NULL, true),
    ('office-relay',  'smtp',     false, 90, 5,   NULL,   2, '{"host": "smtp.example.org", "port": 587, "security": "starttls"}', 'down', 'disabled by admin', true);

INSERT INTO templates (name, kind, default_locale, description, is_demo) VALUES
    ('welcome',          'transactional', 'en', 'Sent when an account is created', true),
    ('password-reset',   'transactional', 'en', 'Password reset link, valid for one hour', true),
    ('order-receipt',    'transactional', 'en', 'Receipt with order lines and totals', true),
    ('monthly-newsletter','marketing',    'en', 'The monthly product newsletter', true),
    ('spring-sale',      'marketing',     'en', 'Seasonal promotion', true),
    ('service-notice',   'system',        'en', 'Maintenance and incident notices', true);

INSERT INTO template_versions (template_id, locale, version, subject, html_body, text_body, note, created_at, created_by)
SELECT t.id, 'en', v.version,
       CASE t.name
           WHEN 'welcome' THEN 'Welcome to Example, {{default first_name "friend"}}!'
           WHEN 'password-reset' THEN 'Reset your password'
           WHEN 'order-receipt' THEN 'Your order {{order.number}}'
           WHEN 'monthly-newsletter' THEN 'What''s new this month at Example'
           WHEN 'spring-sale' THEN '{{first_name}}, 20% off everything this week'
           ELSE 'Scheduled maintenance on {{formatDate starts_at "MMMM D"}}'
       END,
       '<!doctype html><html><body><h1>Hello {{first_name}}</h1><p>Version ' || v.version
           || ' of ' || t.name || '.</p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>',
       NULL,
       CASE v.version WHEN 1 THEN 'first version' ELSE 'copy edits' END,
       now() - ((4 - v.version) * interval '9 days'),
       (ARRAY['maria', 'jon', 'priya'])[1 + (t.id + v.version) % 3]
FROM templates t CROSS JOIN generate_series(1, 3) AS v(version)
WHERE t.is_demo;

INSERT INTO template_samples (template_id, name, data)
SELECT id, 'default', '{"first_name": "Ada", "order": {"number": "A-1042"}, "unsubscribe_url": "https://example.org/u/demo"}'
FROM templates WHERE is_demo;

-- Per day: ~12k sends on weekdays, fewer at weekends; today only up to now.
CREATE TEMP TABLE demo_days ON COMMIT DROP AS
SELECT d,
       date_trunc('day', now()) - d * interval '1 day' AS day_start,
       CASE WHEN d = 0 THEN extract(epoch FROM now() - date_trunc('day', now())) / 86400.0 ELSE 1.0 END AS fraction,
       (CASE WHEN extract(isodow FROM now() - d * interval '1 day') >= 6 THEN 0.65 ELSE 1.0 END
            * (11200 + random() * 1800))::int AS volume
FROM generate_series(0, 29) AS d;

CREATE TEMP TABLE demo_messages ON COMMIT DROP AS
SELECT dd.d,
       dd.day_start + random() * dd.fraction * interval '1 day' AS created_at,
       random() AS r_queue, random() AS r_provider, random() AS r_outcome, random() AS r_open,
       random() AS r_click, random() AS r_machine, random() AS r_template, (random() * 48000)::int AS user_no
FROM demo_days dd, generate_series(1, (dd.volume * dd.fraction)::int);

INSERT INTO messages (queue_id, state, priority, scheduled_at, attempts, max_attempts, recipient, sender,
                      template_version_id, data, provider_id, provider_message_id, message_id_header,
                      last_error, last_error_class, delivery, opened_at, clicked_at, is_demo,
                      created_at, updated_at, sent_at, delivered_at, lease_expires_at, leased_by, send_ms)
SELECT q.id,
       s.state,
       CASE q.name WHEN 'transactional' THEN 1 WHEN 'system' THEN 2 WHEN 'marketing' THEN 3 ELSE 4 END,
       CASE WHEN s.state = 'pending' THEN now() + random() * interval '2 hours' ELSE m.created_at END,
       CASE WHEN s.state IN ('sent') THEN 1 + (m.r_outcome > 0.97)::int WHEN s.state = 'dead' THEN q.max_attempts ELSE 0 END,
       q.max_attempts,
       'user' || m.user_no || '@' || (ARRAY['example.com', 'example.net', 'mail.example.org', 'example.co.uk', 'example.de'])[1 + m.user_no % 5],
       CASE WHEN q.name IN ('marketing', 'bulk') THEN 'news@example.org' ELSE 'no-reply@example.org' END,
       tv.id,
       jsonb_build_object('first_name', (ARRAY['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis'])[1 + m.user_no % 8]),
       CASE WHEN s.state IN ('sent', 'dead') THEN p.id END,
       CASE WHEN s.state = 'sent' THEN md5(m.user_no::text || m.created_at::text) END,
       CASE WHEN s.state IN ('sent', 'processing', 'dead') THEN md5(m.created_at::text || m.user_no::text) || '@example.org' END,
       CASE WHEN s.state = 'dead' THEN '550 5.1.1 <recipient>: Recipient address rejected: User unknown' END,
       CASE WHEN s.state = 'dead' THEN 'permanent' END,
       CASE WHEN s.state <> 'sent' THEN NULL
            WHEN m.r_outcome < 0.010 THEN 'bounced'
            WHEN m.r_outcome < 0.013 THEN 'dropped'
            WHEN m.r_outcome < 0.0135 THEN 'complained'
            WHEN m.r_outcome < 0.017 THEN 'deferred'
            ELSE 'delivered' END,
       CASE WHEN s.state = 'sent' AND m.r_outcome >= 0.017 AND m.r_open < 0.46 THEN m.created_at + (3 + m.r_machine * 600) * interval '1 minute' END,
       CASE WHEN s.state = 'sent' AND m.r_outcome >= 0.017 AND m.r_open < 0.46 AND m.r_click < 0.326 THEN m.created_at + (5 + m.r_machine * 900) * interval '1 minute' END,
       true,
       m.created_at, m.created_at,
       CASE WHEN s.state = 'sent' THEN m.created_at + (0.2 + m.r_click * 2) * interval '1 second' END,
       CASE WHEN s.state = 'sent' AND m.r_outcome >= 0.017 THEN m.created_at + (1 + m.r_click * 20) * interval '1 second' END,
       CASE WHEN s.state = 'processing' THEN now() + interval '5 minutes' END,
       CASE WHEN s.state = 'processing' THEN 'demo-host/worker-1' END,
       CASE WHEN s.state = 'sent' THEN ((0.2 + m.r_click * 2) * 1000)::int END -- as sent_at after created_at
FROM demo_messages m
CROSS JOIN LATERAL (
    SELECT CASE WHEN m.r_queue < 0.45 THEN 'transactional' WHEN m.r_queue < 0.80 THEN 'marketing'
                WHEN m.r_queue < 0.90 THEN 'system' ELSE 'bulk' END AS queue_name) qn
JOIN queues q ON q.name = qn.queue_name
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN m.d = 0 AND m.created_at > now() - interval '6 minutes' AND m.r_outcome < 0.60 THEN 'pending'
        WHEN m.d = 0 AND m.created_at > now() - interval '6 minutes' AND m.r_outcome < 0.70 THEN 'processing'
        WHEN m.r_provider < 0.003 THEN 'dead'
        WHEN m.r_provider < 0.004 THEN 'suppressed'
        WHEN m.r_provider < 0.0045 THEN 'cancelled'
        ELSE 'sent' END AS state) s
CROSS JOIN LATERAL (
    SELECT id FROM providers
    WHERE is_demo AND name = CASE WHEN m.r_provider < 0.55 THEN 'sendgrid-main' WHEN m.r_provider < 0.85 THEN 'ses-eu'
                                  WHEN m.r_provider < 0.97 THEN 'mailgun-eu' ELSE 'sandbox' END) p
CROSS JOIN LATERAL (
    SELECT v.id FROM template_versions v JOIN templates t ON t.id = v.template_id
    WHERE t.is_demo AND v.version = 3
      AND t.name = CASE qn.queue_name
            WHEN 'transactional' THEN (ARRAY['welcome', 'password-reset', 'order-receipt'])[1 + (m.r_template * 3)::int % 3]
            WHEN 'marketing' THEN (ARRAY['monthly-newsletter', 'spring-sale'])[1 + (m.r_template * 2)::int % 2]
            WHEN 'system' THEN 'service-notice'
            ELSE 'monthly-newsletter' END) tv;

-- Events, as the providers' webhooks would have reported them.
INSERT INTO events (source, event_key, type, subtype, machine, message_id, provider_id, provider_message_id, recipient, url, occurred_at, raw)
SELECT p.type, 'demo-' || m.id || '-' || e.type, e.type, e.subtype, e.machine, m.id, m.provider_id,
       m.provider_message_id, m.recipient, e.url, e.at, NULL
FROM messages m
JOIN providers p ON p.id = m.provider_id
CROSS JOIN LATERAL (
    SELECT 'delivered' AS type, NULL AS subtype, false AS machine, NULL AS url, m.delivered_at AS at
    WHERE m.delivered_at IS NOT NULL
    UNION ALL
    SELECT 'bounced', CASE WHEN m.id % 10 < 7 THEN 'hard' ELSE 'soft' END, false, NULL, m.sent_at + interval '4 seconds'
    WHERE m.delivery = 'bounced'
    UNION ALL
    SELECT 'dropped', NULL, false, NULL, m.sent_at + interval '1 second' WHERE m.delivery = 'dropped'
    UNION ALL
    SELECT 'complained', NULL, false, NULL, m.sent_at + interval '3 hours' WHERE m.delivery = 'complained'
    UNION ALL
    SELECT 'deferred', NULL, false, NULL, m.sent_at + interval '30 seconds' WHERE m.delivery = 'deferred'
    UNION ALL
    SELECT 'opened', NULL, (m.id % 5 = 0), NULL, m.opened_at WHERE m.opened_at IS NOT NULL
    UNION ALL
    SELECT 'clicked', NULL, (m.id % 40 = 0), 'https://example.org/' || (ARRAY['pricing', 'blog/spring', 'account', 'sale'])[1 + m.id % 4],
           m.clicked_at WHERE m.clicked_at IS NOT NULL
    UNION ALL
    SELECT 'unsubscribed', NULL, false, NULL, m.clicked_at + interval '1 minute'
    WHERE m.clicked_at IS NOT NULL AND m.id % 97 = 0
) e
WHERE m.is_demo AND m.provider_id IS NOT NULL AND e.at <= now();

INSERT INTO suppressions (address, reason, source, note)
SELECT DISTINCT ON (lower(m.recipient)) lower(m.recipient),
       CASE e.type WHEN 'complained' THEN 'complaint' WHEN 'unsubscribed' THEN 'unsubscribe' ELSE 'hard_bounce' END,
       'demo', 'demo data'
FROM events e JOIN messages m ON m.id = e.message_id
WHERE m.is_demo AND (e.type IN ('complained', 'unsubscribed') OR (e.type = 'bounced' AND e.subtype = 'hard'))
ORDER BY lower(m.recipient), e.occurred_at;

-- Daily rollups, as the event path maintains them.
INSERT INTO daily_rollups (day, provider_id, queue_id, template_id, sent, failed, delivered, deferred, bounced_hard,
                           bounced_soft, dropped, complained, opened, opened_machine, clicked, clicked_bot,
                           unsubscribed, send_ms_total)
SELECT day, provider_id, queue_id, template_id, sum(sent), sum(failed), sum(delivered), sum(deferred), sum(bounced_hard),
       sum(bounced_soft), sum(dropped), sum(complained), sum(opened), sum(opened_machine), sum(clicked), sum(clicked_bot),
       sum(unsubscribed), sum(send_ms)
FROM (
    SELECT (m.sent_at AT TIME ZONE 'UTC')::date AS day, coalesce(m.provider_id, 0) AS provider_id, m.queue_id,
           coalesce(tv.template_id, 0) AS template_id, 1 AS sent, 0 AS failed, 0 AS delivered, 0 AS deferred,
           0 AS bounced_hard, 0 AS bounced_soft, 0 AS dropped, 0 AS complained, 0 AS opened, 0 AS opened_machine,
           0 AS clicked, 0 AS clicked_bot, 0 AS unsubscribed,
           m.send_ms::bigint AS send_ms
    FROM messages m LEFT JOIN template_versions tv ON tv.id = m.template_version_id
    WHERE m.is_demo AND m.state = 'sent'
    UNION ALL
    SELECT (m.updated_at AT TIME ZONE 'UTC')::date, coalesce(m.provider_id, 0), m.queue_id, coalesce(tv.template_id, 0),
           0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM messages m LEFT JOIN template_versions tv ON tv.id = m.template_version_id
    WHERE m.is_demo AND m.state = 'dead'
    UNION ALL
    SELECT (e.occurred_at AT TIME ZONE 'UTC')::date, coalesce(e.provider_id, 0), m.queue_id, coalesce(tv.template_id, 0),
           0, 0,
           (e.type = 'delivered')::int, (e.type = 'deferred')::int,
           (e.type = 'bounced' AND e.subtype = 'hard')::int, (e.type = 'bounced' AND e.subtype = 'soft')::int,
           (e.type = 'dropped')::int, (e.type = 'complained')::int,
           (e.type = 'opened')::int, (e.type = 'opened' AND e.machine)::int,
           (e.type = 'clicked')::int, (e.type = 'clicked' AND e.machine)::int,
           (e.type = 'unsubscribed')::int, 0
    FROM events e JOIN messages m ON m.id = e.message_id LEFT JOIN template_versions tv ON tv.id = m.template_version_id
    WHERE m.is_demo
) counts
GROUP BY day, provider_id, queue_id, template_id;

INSERT INTO audit_log (at, actor, action, entity_type, entity_id, detail)
SELECT now() - interval '20 days', 'maria', 'create', 'provider', id::text, jsonb_build_object('name', name)
FROM providers WHERE is_demo
UNION ALL
SELECT now() - interval '2 days', 'jon', 'disable', 'provider', id::text, jsonb_build_object('name', name)
FROM providers WHERE is_demo AND name = 'office-relay';

INSERT INTO settings (key, value) VALUES ('demo', jsonb_build_object('loaded_at', now()))
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
