"""config/cache.py while Redis cannot be reached: the cache answers as an empty one, each process
asks Redis again only every few seconds, and the log says so once. tests/integration/
test_redis_outage.py stops a real Redis and starts it again."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from config import outages
from config.cache import count_hits
from tests.conftest import redis_cache

pytestmark = pytest.mark.usefixtures("cache_down")


@pytest.fixture
def clock(monkeypatch):
    """The outage's clock, moved by hand: [seconds]."""
    now = [1000.0]
    monkeypatch.setattr(outages, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def silent_redis(settings):
    """The cache is a "Redis" that takes connections and never answers (hung, or behind a
    network that drops its replies); this gives the connections it took: [count]."""
    taken = [0]
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # closed: the test is over
                return
            taken[0] += 1

    threading.Thread(target=accept, daemon=True).start()
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")}
    yield taken
    listener.close()
    for connection in held:
        connection.close()


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
    assert cache.incr("signing-ip:abc") is None  # django-redis: not "not found" (ValueError)
    cache.clear()


def test_add_succeeds_so_that_whoever_asked_does_the_work_itself():
    """counting.fold_soon folds when add() succeeds; nothing is found that says another did."""
    assert cache.add("folded:1", True, 1) is True
    assert cache.add("folded:1", True, 1) is True


def test_get_or_set_gives_what_it_computed():
    assert cache.get_or_set("rules", lambda: ["from the database"], 60) == ["from the database"]


def test_limits_and_caps_are_counted_by_this_process_alone():
    counters = [("signing-ip:abc", 600), ("emails-domain:def", 600)]

    assert [count_hits(counters) for _ in range(3)] == [[1, 1], [2, 2], [3, 3]]
    assert count_hits([("signing-ip:other", 600)]) == [1]


def test_a_counter_counted_alone_starts_again_after_its_window():
    count_hits([("signing-ip:abc", 60)])

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert count_hits([("signing-ip:abc", 60)]) == [1]


def test_a_redis_that_does_not_answer_is_asked_again_only_every_few_seconds(clock, silent_redis):
    """Each call would otherwise wait for the socket's timeout: a second per cache call."""
    for _ in range(20):
        assert cache.get("page") is None
        assert count_hits([("signing-ip:abc", 600)]) == [_ + 1]
    assert silent_redis == [1]

    clock[0] += outages.RETRY_SECONDS - 0.1
    cache.get("page")
    assert silent_redis == [1]

    clock[0] += 0.2
    cache.get("page")
    assert silent_redis == [2]


def test_an_outage_is_logged_once_naming_neither_keys_nor_values(clock, caplog):
    caplog.set_level(logging.INFO, logger="config.outages")

    for _ in range(20):
        cache.set("signing-ip:someone@example.org", "someone@example.org")
        count_hits([("signing-ip:someone@example.org", 600)])
        clock[0] += outages.RETRY_SECONDS + 1  # tried again each time, and refused again

    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert caplog.records[0].levelno == logging.WARNING
    assert message.startswith("the Redis cache cannot be reached (ConnectionError: ")
    assert "Connection refused" in message
    assert "someone" not in caplog.text
