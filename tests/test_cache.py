"""config/cache.py while Redis cannot be reached: the cache answers as an empty one, each process
asks Redis again only every few seconds, and the log says so once."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from redis.connection import Connection

from config import outages
from config.cache import cache_outage, count_hits

pytestmark = pytest.mark.usefixtures("cache_down")


@pytest.fixture
def clock(monkeypatch):
    """The outage's clock, moved by hand: [seconds]."""
    now = [1000.0]
    monkeypatch.setattr(outages, "monotonic", lambda: now[0])
    return now


def test_a_cache_that_cannot_be_reached_finds_nothing_and_keeps_nothing():
    assert cache.get("page") is None
    assert cache.get("page", "default") == "default"
    assert cache.set("page", b"bytes", 10) is None
    assert cache.get("page") is None
    assert cache.get_many(["page", "rules"]) == {}
    assert not cache.has_key("page")
    assert not cache.delete("page")
    cache.delete_many(["page", "rules"])
    cache.set_many({"page": b"bytes"})
    cache.clear()


def test_add_succeeds_so_that_whoever_asked_does_the_work_itself():
    """counting.fold_soon folds when add() succeeds; nothing is found that says another did."""
    assert cache.add("folded:1", True, 1) is True
    assert cache.add("folded:1", True, 1) is True


def test_get_or_set_gives_what_it_computed():
    assert cache.get_or_set("rules", lambda: ["from the database"], 60) == ["from the database"]


def test_a_counter_is_not_found():
    assert cache.incr("signing-ip:abc") is None  # django-redis: not "not found" (ValueError)


def test_limits_and_caps_are_counted_by_this_process_alone():
    counters = [("signing-ip:abc", 600), ("emails-domain:def", 600)]

    assert [count_hits(counters) for _ in range(3)] == [[1, 1], [2, 2], [3, 3]]
    assert count_hits([("signing-ip:other", 600)]) == [1]


def test_a_counter_counted_alone_starts_again_after_its_window():
    count_hits([("signing-ip:abc", 60)])

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert count_hits([("signing-ip:abc", 60)]) == [1]


def test_redis_is_asked_again_only_every_few_seconds(clock):
    with mock.patch.object(
        Connection, "connect", autospec=True, side_effect=Connection.connect
    ) as connect:
        for _ in range(50):
            cache.get("page")
        assert connect.call_count == 1

        clock[0] += outages.RETRY_SECONDS - 0.1
        cache.get("page")
        assert connect.call_count == 1

        clock[0] += 0.2
        cache.get("page")
        assert connect.call_count == 2


def test_an_outage_is_logged_once_naming_neither_keys_nor_values(clock, caplog):
    caplog.set_level(logging.INFO, logger="config.outages")

    for _ in range(20):
        cache.set("signing-ip:someone@example.org", "someone@example.org")
        clock[0] += outages.RETRY_SECONDS + 1  # tried again each time, and refused again

    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert caplog.records[0].levelno == logging.WARNING
    assert message.startswith("the Redis cache cannot be reached (ConnectionError: ")
    assert "Connection refused" in message
    assert "someone" not in caplog.text


def test_the_end_of_an_outage_is_logged_and_the_next_one_warned_of_again(clock, caplog):
    caplog.set_level(logging.INFO, logger="config.outages")
    cache.get("page")

    cache_outage.ended()  # what the first call that succeeds does
    clock[0] += 1
    cache.get("page")

    assert [(r.levelno, r.getMessage().split(" (")[0]) for r in caplog.records] == [
        (logging.WARNING, "the Redis cache cannot be reached"),
        (logging.INFO, "the Redis cache is reachable again after 0 s"),
        (logging.WARNING, "the Redis cache cannot be reached"),
    ]
