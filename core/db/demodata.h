#pragma once

#include "common/result.h"

namespace Db {

class Connection;

// Fills an empty database with a believable month of outbound email (providers without secrets,
// templates with versions, messages in every state, events and rollups), all marked as demo data.
// It refuses a database that holds anything else.
class DemoData
{
public:
    struct Summary
    {
        bool alreadyLoaded = false;
        qint64 providers = 0;
        qint64 templates = 0;
        qint64 messages = 0;
        qint64 events = 0;
    };

    static Common::Result<Summary> load(Connection &connection);
    static Common::Result<Summary> count(Connection &connection);
};

} // namespace Db
