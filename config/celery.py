"""The Celery application (broker and behaviour come from the CELERY_* settings), task(), how
each app's tasks.py declares the task that runs a service function, and queue(), how a service
queues that function for a worker: services never import the tasks that run them."""

from __future__ import annotations

import os
from collections.abc import Callable

from celery import Celery, Task, shared_task
from kombu.exceptions import OperationalError

from .outages import Outage

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("safe_passage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

broker_outage = Outage("the Celery broker")

# {service function: the task that runs it}, filled as each app's tasks.py is imported (by its
# AppConfig.ready(), so in every process).
_tasks: dict[Callable, Task] = {}


def task(service: Callable, **options) -> Callable[[Callable], Task]:
    """Make the decorated function a Celery task (shared_task(**options)) that queue(service)
    sends. The task's body calls service and nothing more of substance."""

    def declare(function: Callable) -> Task:
        declared = shared_task(**options)(function)
        _tasks[service] = declared
        return declared

    return declare


def queue(service: Callable, *args, countdown: float | None = None) -> bool:
    """Queue the task that runs service(*args), countdown seconds from now; return whether it
    was queued. With tasks eager (no broker configured) it runs now, in this process.

    A broker that cannot be reached does not fail whoever queues: their state is saved before
    (transaction.on_commit), and a periodic sweep finds the work it left undone (emails never
    sent, presentations still building, exports still queued). The log says the broker is down
    once an outage (config.outages), never with the task's arguments."""
    if broker_outage.ongoing():
        return False
    try:
        _tasks[service].apply_async(args, countdown=countdown)
    except (OperationalError, OSError) as error:
        broker_outage.began(error)
        return False
    broker_outage.ended()
    return True
