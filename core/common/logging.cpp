#include "logging.h"

Q_LOGGING_CATEGORY(lcDb, "postdesk.db", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLocalDb, "postdesk.db.local", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTemplates, "postdesk.templates", QtInfoMsg)
Q_LOGGING_CATEGORY(lcMime, "postdesk.mime", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSmtp, "postdesk.smtp", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProviders, "postdesk.providers", QtInfoMsg)
Q_LOGGING_CATEGORY(lcQueue, "postdesk.queue", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEvents, "postdesk.events", QtInfoMsg)
