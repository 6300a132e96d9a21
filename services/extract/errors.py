"""Extract's failures, named once.

Transient (retried with backoff): Redis unreachable or timing out.
Permanent (dead-lettered at once, never retried): a payload that is not a valid article.
"""

import redis
from pydantic import ValidationError

TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
PERMANENT = (ValidationError,)
