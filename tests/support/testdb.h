#pragma once

#include "db/connectioninfo.h"

#include <QString>

namespace TestSupport {

// The throwaway PostgreSQL server the test command started ($POSTDESK_TEST_DB, a connection string).
Db::ConnectionInfo testServer();

// A schema of this test executable's own on the test server, dropped and created anew: the
// returned connection info has search_path set to it, so the whole program under test works inside.
Db::ConnectionInfo freshSchema(const QString &name);

// A fresh database of its own, for tests that need a whole database (e.g. demo data).
Db::ConnectionInfo freshDatabase(const QString &name);

} // namespace TestSupport
