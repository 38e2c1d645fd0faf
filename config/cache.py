"""Django's Redis cache, keeping one client per connection pool; and remembered(), what a process
keeps for a second or so in its own memory.

Django builds a new redis.Redis for every cache operation, and building its table of response
callbacks costs more CPU than the round trip to Redis (measured with cProfile on the sign view:
about a third of a millisecond a request). A client is safe to share between threads; the pool
it uses already reconnects after a fork.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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

    def count_hits(self, counters: list[tuple[str, int]]) -> list[int]:
        """One more hit on each (key, window in seconds): a counter that starts at the first hit
        and is gone a window later. All in one round trip (petitions/abuse.py's rate limits)."""
        keys = [(self.make_and_validate_key(key), window) for key, window in counters]
        if not keys:
            return []
        pipe = self._cache.get_client(keys[0][0], write=True).pipeline(transaction=False)
        for key, window in keys:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        return pipe.execute()[1::2]


T = TypeVar("T")


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
