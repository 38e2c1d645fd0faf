"""The cache is django-redis, going on without Redis when it cannot be reached; and count_hits(),
the signing limits' counters in one round trip.

Everything the cache holds can be found again in the database, so while Redis cannot be reached
the cache answers as Django's dummy cache does (nothing found, nothing kept, add() succeeds)
rather than fail the request: the petition page is rendered, the signing rules are read from
the database, and a confirmation folds its own count (counting.fold_soon). django-redis ignores
the errors (IGNORE_EXCEPTIONS, config/settings.py); its connection pool is ours, so that
config.outages says once when Redis went and when it came back, and keeps requests from each
waiting for it. The signing limits and email caps (count_hits) are counted by each process on its
own meanwhile, so they still hold, each process allowing as many.
"""

from __future__ import annotations

import redis
from django.core.cache import BaseCache, cache
from django.core.cache.backends.locmem import LocMemCache
from django_redis import get_redis_connection
from django_redis.cache import RedisCache as DjangoRedisCache

from .outages import Outage

cache_outage = Outage("the Redis cache")
COUNTED_ALONE = "config.cache.counted-alone"  # count_hits() while Redis is down, per process
_alone = LocMemCache(COUNTED_ALONE, {"OPTIONS": {"MAX_ENTRIES": 100_000}})


class RedisCache(DjangoRedisCache):
    def add(self, *args, **kwargs) -> bool:
        """Whoever asked does the work itself while Redis is down: added, as Django's dummy cache
        says (django-redis ignoring the error answers None)."""
        added = super().add(*args, **kwargs)
        return True if added is None else added


class ConnectionPool(redis.ConnectionPool):
    """redis-py's pool, which tells config.outages when a connection cannot be made (refused,
    timed out) and when it can again, and gives none while Redis is taken to be down."""

    def get_connection(self, *args, **kwargs) -> redis.Connection:
        if cache_outage.ongoing():
            raise redis.ConnectionError("down a moment ago; not asked again yet")
        try:
            connection = super().get_connection(*args, **kwargs)
        except redis.RedisError as error:
            cache_outage.began(error)
            raise
        cache_outage.ended()
        return connection


def count_hits(counters: list[tuple[str, int]]) -> list[int]:
    """One more hit on each (key, window in seconds): a counter that starts at the first hit
    and is gone a window later. With Redis all in one round trip (petitions/services/abuse.py's
    limits and caps); while it is down, counted by this process alone."""
    try:
        client = get_redis_connection("default")
    except NotImplementedError:  # not Redis: the local-memory cache of a site without REDIS_URL
        return [_hit(cache, key, window) for key, window in counters]
    pipe = client.pipeline(transaction=False)
    for name, window in counters:
        key = cache.make_key(name)
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
    try:
        return pipe.execute()[1::2]
    except redis.RedisError:  # unreachable (config.outages says so), or refusing writes
        return [_hit(_alone, key, window) for key, window in counters]


def _hit(counters: BaseCache, key: str, window: int) -> int:
    if counters.add(key, 1, timeout=window):
        return 1
    try:
        return counters.incr(key)
    except ValueError:  # its window ended just now
        counters.set(key, 1, timeout=window)
        return 1
