"""The Celery worker's own log, on the real stack, keeps signers' addresses out (the redaction
of config/log_redaction.py is installed in the worker process as in every other).

Run with PostgreSQL and Redis (see tests/integration/conftest.py); without them this skips.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from petitions.tasks import send_confirmation
from tests.conftest import make_signature

from .conftest import (
    REAL_STACK_SKIP_REASON,
    CeleryWorker,
    MailSink,
    free_port,
    real_stack_configured,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not real_stack_configured(), reason=REAL_STACK_SKIP_REASON),
]

ADDRESS = "kim.min-ji@example.org"


class RefusingMailSink(MailSink):
    """A mail server that knows no such mailbox: the SMTP refusal quotes the address."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 No such user"


@pytest.fixture
def smtp_server() -> Iterator[MailSink]:
    """Replaces the conftest's server for this module's worker."""
    from aiosmtpd.controller import Controller

    sink = RefusingMailSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def test_a_refused_address_is_not_in_the_workers_log(
    transactional_db: None,
    petition,
    start_worker: Callable[[], CeleryWorker],
) -> None:
    signature = make_signature(petition, ADDRESS, confirmations_requested=1)
    worker = start_worker()
    worker.wait_until_ready()

    send_confirmation.delay(signature.pk)

    # smtplib raises SMTPRecipientsRefused({address: (550, …)}) and Celery logs it as it retries.
    wait_for(
        lambda: re.search(r"send_confirmation\[[-0-9a-f]+\] retry", worker.log()),
        "the worker to log the refusal and the retry",
        worker=worker,
    )
    log = worker.log()
    assert "SMTPRecipientsRefused({'…@…': (550" in log, log
    assert "kim.min-ji" not in log and "@example.org" not in log, log
