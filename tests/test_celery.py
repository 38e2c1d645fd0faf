"""config.celery.queue(): how a request queues work, and what it does when the broker is down."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from celery import Celery
from kombu.exceptions import EncodeError

from config import celery, outages
from config.celery import queue
from tests.conftest import unused_port


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(outages, "monotonic", lambda: now[0])
    return now


def _service_in_app(monkeypatch, broker_url: str):
    """A service function whose task is in a Celery app of its own, sending to broker_url."""
    app = Celery("elsewhere", broker=broker_url, set_as_current=False)
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    app.conf.task_publish_retry_policy = {"max_retries": 0}

    def remember(address: str) -> None:
        """Nothing to do: a service to queue."""

    monkeypatch.setitem(celery._tasks, remember, app.task(name="tests.remember")(remember))
    return app, remember


@pytest.fixture
def unreachable(monkeypatch):
    """A service whose task's broker is Redis on a port where nothing listens."""
    app, service = _service_in_app(monkeypatch, f"redis://127.0.0.1:{unused_port()}/0")
    yield service
    app.close()


@pytest.fixture
def hanging_up(monkeypatch):
    """A service whose task's broker takes each connection and closes it at once, and the list
    of connections it took."""
    server = socket.create_server(("127.0.0.1", 0))
    taken = []

    def hang_up() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            taken.append(connection.getpeername())
            connection.close()

    threading.Thread(target=hang_up, daemon=True).start()
    app, service = _service_in_app(monkeypatch, f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    yield service, taken
    app.close()
    server.close()


@pytest.fixture
def in_memory(monkeypatch):
    """A service whose task's broker is kombu's in-memory one: always there."""
    app, service = _service_in_app(monkeypatch, "memory://")
    yield service
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


def test_while_the_broker_is_down_it_is_tried_again_only_every_few_seconds(hanging_up, clock):
    service, taken = hanging_up

    assert queue(service, "someone@example.org") is False
    tried = len(taken)
    assert tried >= 1
    for _ in range(20):
        assert queue(service, "someone@example.org") is False
    assert len(taken) == tried  # not one more connection

    clock[0] += outages.RETRY_SECONDS + 1
    assert queue(service, "someone@example.org") is False
    assert len(taken) > tried


def test_an_error_that_is_not_the_brokers_is_raised(in_memory):
    """A task that cannot be queued for its own sake (here, an argument JSON cannot carry) is a
    bug to see, not an outage to ride out."""
    with pytest.raises(EncodeError):
        queue(in_memory, {"a set"})
    assert queue(in_memory, "someone@example.org") is True  # the broker was never thought down


def test_every_periodic_task_is_one_the_worker_runs(settings):
    """Beat sends tasks by name: a name that is no task would be dropped by the worker."""
    from config.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= set(app.tasks)
