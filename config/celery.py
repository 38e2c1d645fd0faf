"""The Celery application (broker and behaviour come from the CELERY_* settings), and queue(),
how a request queues work."""

from __future__ import annotations

import os

from celery import Celery, Task
from kombu.exceptions import OperationalError

from .outages import Outage

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("safe_passage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

broker_outage = Outage("the Celery broker")


def queue(task: Task, *args, countdown: float | None = None) -> bool:
    """Queue task(*args), countdown seconds from now; return whether it was queued.

    A broker that cannot be reached does not fail whoever queues: their state is saved before
    (transaction.on_commit), and a periodic sweep finds the work it left undone (emails never
    sent, presentations still building, exports still queued). The log says the broker is down
    once an outage (config.outages), never with the task's arguments."""
    if broker_outage.ongoing():
        return False
    try:
        task.apply_async(args, countdown=countdown)
    except (OperationalError, OSError) as error:
        broker_outage.began(error)
        return False
    broker_outage.ended()
    return True
