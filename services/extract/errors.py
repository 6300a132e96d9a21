"""Extract's failures, named once.

Transient (retried with backoff): Redis unreachable or timing out, or the shared linking lock not
acquired in time (another worker holds it; the next try will find it free).
Permanent (dead-lettered at once, never retried): a payload that is not a valid article.
"""

import redis
from pydantic import ValidationError

TRANSIENT = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.exceptions.LockError)
PERMANENT = (ValidationError,)
