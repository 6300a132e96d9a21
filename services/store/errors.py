"""Store's failures, named once.

    NewswireError (common.errors)
    └── SchemaOutOfDateError   the database schema is not this release's: run `newswire migrate`
    ValueError
    └── BadCursorError         the read API was given a cursor it did not issue (a 400)

Failures store rides out rather than raises: ``TRANSIENT_DB`` (the database or the network to it is
away: store backs off and retries the same batch) and ``TRANSIENT_REDIS`` (Redis is away or
loading: the same). A message store cannot store is dead-lettered with its reason, counted in
``newswire_store_dead_letters_total{reason}``: ``malformed`` (no payload, not JSON),
``schema_version`` (a version this store does not read), ``invalid`` (fails the schema),
``rejected`` (the database refused it alone).
"""

import redis
from sqlalchemy.exc import OperationalError

from services.common.errors import NewswireError

__all__ = ["TRANSIENT_DB", "TRANSIENT_REDIS", "BadCursorError", "SchemaOutOfDateError"]

TRANSIENT_DB = (OperationalError,)
TRANSIENT_REDIS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


class SchemaOutOfDateError(NewswireError):
    """The database schema is not the one this release needs."""


class BadCursorError(ValueError):
    """A pagination cursor the read API did not issue."""
