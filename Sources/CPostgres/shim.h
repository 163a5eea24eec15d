// libpq (Debian libpq-dev) for the PostgreSQL store. Swift calls it through
// ZuoraSyncStore's PostgresConnection only.
#include <libpq-fe.h>
