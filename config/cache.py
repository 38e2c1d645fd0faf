"""Django's Redis cache, keeping one client per connection pool and going on without Redis when
it cannot be reached; and remembered(), what a process keeps for a second or so in its own memory.

Django builds a new redis.Redis for every cache operation, and building its table of response
callbacks costs more CPU than the round trip to Redis (measured with cProfile on the sign view:
about a third of a millisecond a request). A client is safe to share between threads; the pool
it uses already reconnects after a fork.

Everything the cache holds can be found again in the database, so while Redis cannot be reached
the cache answers as Django's dummy cache does (nothing found, nothing kept, add() succeeds)
rather than fail the request: the petition page is rendered, the signing rules are read from
the database, and a confirmation folds its own count (counting.fold_soon). The signing limits
and email caps (count_hits) are counted by each process on its own meanwhile, so they still
hold, each process allowing as many. config.outages keeps requests from each waiting for Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

from .outages import Outage

T = TypeVar("T")

cache_outage = Outage("the Redis cache")
COUNTED_ALONE = "config.cache.counted-alone"  # count_hits() while Redis is down, per process


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._nothing = DummyCache(server, {})  # what the cache is while Redis is down
        self._alone = LocMemCache(COUNTED_ALONE, {"OPTIONS": {"MAX_ENTRIES": 100_000}})

    def _unless_down(self, call: Callable[..., T], fallback: Callable[..., T], *args) -> T:
        if cache_outage.ongoing():
            return fallback(*args)
        try:
            result = call(*args)
        except RedisError as error:  # refused, timed out, or refusing writes (out of memory)
            cache_outage.began(error)
            return fallback(*args)
        cache_outage.ended()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_down(super().add, self._nothing.add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._unless_down(super().get, self._nothing.get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_down(super().set, self._nothing.set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_down(super().touch, self._nothing.touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._unless_down(super().delete, self._nothing.delete, key, version)

    def get_many(self, keys, version=None):
        return self._unless_down(super().get_many, self._nothing.get_many, keys, version)

    def has_key(self, key, version=None):
        return self._unless_down(super().has_key, self._nothing.has_key, key, version)

    def incr(self, key, delta=1, version=None):
        return self._unless_down(super().incr, self._nothing.incr, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._unless_down(super().set_many, self._nothing.set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._unless_down(super().delete_many, self._nothing.delete_many, keys, version)

    def clear(self):
        self._alone.clear()
        return self._unless_down(super().clear, self._nothing.clear)

    def count_hits(self, counters: list[tuple[str, int]]) -> list[int]:
        """One more hit on each (key, window in seconds): a counter that starts at the first hit
        and is gone a window later. All in one round trip (petitions/services/abuse.py's limits and
        caps); while Redis is down, counted by this process alone."""
        return self._unless_down(self._count_hits, self._count_hits_alone, counters)

    def _count_hits_alone(self, counters: list[tuple[str, int]]) -> list[int]:
        hits = []
        for key, window in counters:
            if self._alone.add(key, 1, timeout=window):
                hits.append(1)
                continue
            try:
                hits.append(self._alone.incr(key))
            except ValueError:  # its window ended just now
                self._alone.set(key, 1, timeout=window)
                hits.append(1)
        return hits

    def _count_hits(self, counters: list[tuple[str, int]]) -> list[int]:
        keys = [(self.make_and_validate_key(key), window) for key, window in counters]
        if not keys:
            return []
        pipe = self._cache.get_client(keys[0][0], write=True).pipeline(transaction=False)
        for key, window in keys:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        return pipe.execute()[1::2]


def remembered(memos: dict, key, seconds: float, load: Callable[[], T], most: int = 1000) -> T:
    """load()'s value for key as this process got it at most `seconds` ago: what thousands of
    requests a second would each fetch again otherwise. memos holds (when, value) by key and is
    emptied when it grows past `most` keys."""
    now = time.monotonic()
    memo = memos.get(key)
    if memo is not None and now - memo[0] < seconds:
        return memo[1]
    value = load()
    if len(memos) >= most:
        memos.clear()
    memos[key] = (now, value)
    return value
