"""config.celery.queue(): how a request queues work, and what it does when the broker is down."""

from __future__ import annotations

import logging

import pytest
from celery import Celery

from config import celery, outages
from config.celery import queue
from tests.conftest import unused_port


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(outages, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def unreachable(monkeypatch):
    """A service function whose task is in a Celery app whose broker is Redis on a port where
    nothing listens."""
    app = Celery("unreachable", broker=f"redis://127.0.0.1:{unused_port()}/0", set_as_current=False)
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    app.conf.task_publish_retry_policy = {"max_retries": 0}
    sent = []

    def remember(address: str) -> None:
        sent.append(address)

    monkeypatch.setitem(celery._tasks, remember, app.task(name="tests.remember")(remember))
    yield remember
    app.close()


def test_it_queues_the_task_that_runs_a_service(petition):
    from petitions.models import Tally
    from petitions.services import counting

    Tally.objects.create(petition=petition, country="GB", delta=3)
    assert queue(counting.fold, petition.pk) is True  # in the tests, tasks run at once
    petition.refresh_from_db()
    assert petition.signature_count == 3


def test_a_function_no_task_runs_cannot_be_queued():
    with pytest.raises(KeyError):
        queue(print, "nothing runs this")


def test_a_broker_that_cannot_be_reached_does_not_fail_whoever_queues(unreachable):
    assert queue(unreachable, "someone@example.org") is False


def test_the_log_says_the_broker_is_down_once_and_never_with_the_tasks_arguments(
    unreachable, clock, caplog
):
    caplog.set_level(logging.INFO, logger="config.outages")

    for _ in range(10):
        queue(unreachable, "someone@example.org", countdown=1)
        clock[0] += outages.RETRY_SECONDS + 1

    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("the Celery broker cannot be reached (OperationalError: ")
    )
    assert "someone" not in caplog.text


def test_while_the_broker_is_down_it_is_tried_again_only_every_few_seconds(
    unreachable, clock, monkeypatch
):
    attempts = []
    task = celery._tasks[unreachable]
    publish = task.apply_async
    monkeypatch.setattr(
        task, "apply_async", lambda *args, **kwargs: attempts.append(1) or publish(*args)
    )

    for _ in range(20):
        queue(unreachable, "someone@example.org")
    assert len(attempts) == 1

    clock[0] += outages.RETRY_SECONDS + 1
    queue(unreachable, "someone@example.org")
    assert len(attempts) == 2


def test_an_error_that_is_not_the_brokers_is_raised(monkeypatch):
    """A task that cannot be queued for its own sake (say, arguments that cannot be sent) is a
    bug to see, not an outage to ride out."""
    from petitions.services import counting

    def unserialisable(*args, **kwargs):
        raise TypeError("Object of type set is not JSON serializable")

    monkeypatch.setattr(celery._tasks[counting.fold], "apply_async", unserialisable)

    with pytest.raises(TypeError):
        queue(counting.fold, {1})


def test_every_periodic_task_is_one_the_worker_runs(settings):
    """Beat sends tasks by name: a name that is no task would be dropped by the worker."""
    from config.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= set(app.tasks)
