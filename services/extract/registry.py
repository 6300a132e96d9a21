"""The linking and story state every extract worker shares, in Redis.

Two workers must never mint two ids for one entity, nor two story ids for one happening. Each
article's linking (and then its story assignment) runs under one short Redis lock, so the
read-match-mint sequence of one worker is never interleaved with another's; the bindings themselves
are written with HSETNX, so even a lock that expired mid-way cannot rebind a name already bound.

Keys (all under the deployment's namespace):
  {ns}:extract:alias:{TYPE}   hash  name key → entity id, per entity type
  {ns}:extract:entity         hash  entity id → Entity JSON (canonical name, aliases, gazetteer)
  {ns}:extract:story          hash  story id → StoryState JSON
  {ns}:extract:story:active   zset  story id scored by its last article's publication time, so
                                    similarity compares only stories still within the window
  {ns}:extract:story:event    hash  event id → story id
  {ns}:extract:lock           the lock (redis-py's Lock: SET NX PX, released by token)

``MemoryRegistry`` is the same state in one process, for ``newswire eval`` and the benchmarks.
"""

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import redis

from services.common.schema import Entity, EntityLabel


@dataclass(frozen=True)
class ExtractKeys:
    namespace: str

    def alias(self, label: str) -> str:
        return f"{self.namespace}:extract:alias:{label}"

    @property
    def entity(self) -> str:
        return f"{self.namespace}:extract:entity"

    @property
    def story(self) -> str:
        return f"{self.namespace}:extract:story"

    @property
    def story_active(self) -> str:
        return f"{self.namespace}:extract:story:active"

    @property
    def story_event(self) -> str:
        return f"{self.namespace}:extract:story:event"

    @property
    def lock(self) -> str:
        return f"{self.namespace}:extract:lock"


class Registry(Protocol):
    def lock(self) -> AbstractContextManager[None]: ...

    def lookup(self, label: EntityLabel, keys: list[str]) -> dict[str, str]: ...

    def aliases(self, label: EntityLabel) -> dict[str, str]: ...

    def bind(self, label: EntityLabel, key: str, entity_id: str) -> str: ...

    def entities(self, ids: list[str]) -> dict[str, Entity]: ...

    def save(self, entity: Entity) -> None: ...

    def story_for_events(self, event_ids: list[str]) -> dict[str, str]: ...

    def bind_story(self, event_id: str, story_id: str) -> str: ...

    def stories(self, ids: list[str]) -> dict[str, str]: ...

    def active_stories(self, since: float) -> list[str]: ...

    def save_story(self, story_id: str, state: str, last_published: float) -> None: ...


class RedisRegistry:
    def __init__(self, client: redis.Redis, keys: ExtractKeys, lock_timeout_s: float = 30.0) -> None:
        self._redis = client
        self._keys = keys
        self._lock_timeout = lock_timeout_s

    @contextmanager
    def lock(self) -> Iterator[None]:
        # The timeout frees the lock of a worker that died holding it; blocking_timeout bounds the wait.
        with self._redis.lock(self._keys.lock, timeout=self._lock_timeout, blocking_timeout=self._lock_timeout * 2):
            yield

    def lookup(self, label: EntityLabel, keys: list[str]) -> dict[str, str]:
        if not keys:
            return {}
        values = self._redis.hmget(self._keys.alias(label), keys)
        return {k: _text(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def aliases(self, label: EntityLabel) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in self._redis.hgetall(self._keys.alias(label)).items()}

    def bind(self, label: EntityLabel, key: str, entity_id: str) -> str:
        name = self._keys.alias(label)
        if self._redis.hsetnx(name, key, entity_id):
            return entity_id
        return _text(self._redis.hget(name, key))

    def entities(self, ids: list[str]) -> dict[str, Entity]:
        if not ids:
            return {}
        values = self._redis.hmget(self._keys.entity, ids)
        return {i: Entity.model_validate_json(v) for i, v in zip(ids, values, strict=True) if v is not None}

    def save(self, entity: Entity) -> None:
        self._redis.hset(self._keys.entity, entity.id, entity.model_dump_json())

    def story_for_events(self, event_ids: list[str]) -> dict[str, str]:
        if not event_ids:
            return {}
        values = self._redis.hmget(self._keys.story_event, event_ids)
        return {e: _text(v) for e, v in zip(event_ids, values, strict=True) if v is not None}

    def bind_story(self, event_id: str, story_id: str) -> str:
        if self._redis.hsetnx(self._keys.story_event, event_id, story_id):
            return story_id
        return _text(self._redis.hget(self._keys.story_event, event_id))

    def stories(self, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        values = self._redis.hmget(self._keys.story, ids)
        return {i: _text(v) for i, v in zip(ids, values, strict=True) if v is not None}

    def active_stories(self, since: float) -> list[str]:
        return [_text(i) for i in self._redis.zrangebyscore(self._keys.story_active, since, "+inf")]

    def save_story(self, story_id: str, state: str, last_published: float) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._keys.story, story_id, state)
            pipe.zadd(self._keys.story_active, {story_id: last_published})
            pipe.execute()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class MemoryRegistry:
    """The same state in one process's memory: for ``newswire eval`` and the benchmarks, where one
    process does all the linking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._aliases: dict[str, dict[str, str]] = {}
        self._entities: dict[str, Entity] = {}
        self._story_events: dict[str, str] = {}
        self._stories: dict[str, str] = {}
        self._active: dict[str, float] = {}

    @contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield

    def lookup(self, label: EntityLabel, keys: list[str]) -> dict[str, str]:
        table = self._aliases.get(label, {})
        return {k: table[k] for k in keys if k in table}

    def aliases(self, label: EntityLabel) -> dict[str, str]:
        return dict(self._aliases.get(label, {}))

    def bind(self, label: EntityLabel, key: str, entity_id: str) -> str:
        return self._aliases.setdefault(label, {}).setdefault(key, entity_id)

    def entities(self, ids: list[str]) -> dict[str, Entity]:
        return {i: self._entities[i] for i in ids if i in self._entities}

    def save(self, entity: Entity) -> None:
        self._entities[entity.id] = entity

    def story_for_events(self, event_ids: list[str]) -> dict[str, str]:
        return {e: self._story_events[e] for e in event_ids if e in self._story_events}

    def bind_story(self, event_id: str, story_id: str) -> str:
        return self._story_events.setdefault(event_id, story_id)

    def stories(self, ids: list[str]) -> dict[str, str]:
        return {i: self._stories[i] for i in ids if i in self._stories}

    def active_stories(self, since: float) -> list[str]:
        return [i for i, last in self._active.items() if last >= since]

    def save_story(self, story_id: str, state: str, last_published: float) -> None:
        self._stories[story_id] = state
        self._active[story_id] = last_published
