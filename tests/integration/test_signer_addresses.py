"""A signer's address on the real stack: the worker mails the address as it was checked, its
domain in IDNA form, in the envelope and the header alike; an address that is no ordinary
mailbox is refused by the page and never reaches the mail server.

Run with PostgreSQL and Redis (see test_real_stack.py); without them these tests skip.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from petitions.models import Petition, Signature

from .conftest import (
    REAL_STACK_SKIP_REASON,
    CeleryWorker,
    HttpClient,
    MailSink,
    real_stack_configured,
    wait_for,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not real_stack_configured(), reason=REAL_STACK_SKIP_REASON),
]


def sign(http: HttpClient, petition: Petition, address: str):
    return http.post(
        reverse("petitions:sign", args=[petition.slug]),
        {"name": "Kim Min-ji", "email": address, "country": "KR", "consent": "on"},
    )


def test_the_envelope_and_the_header_name_the_checked_address(
    live_server,
    transactional_db: None,
    petition: Petition,
    http: HttpClient,
    smtp_server: MailSink,
    start_worker: Callable[[], CeleryWorker],
) -> None:
    worker = start_worker()
    worker.wait_until_ready()

    refused = sign(http, petition, '"<v@evil.example>"@example.com')
    signed = sign(http, petition, "min-ji@bücher.example")

    assert refused.status == 400 and "without quotation marks" in refused.body
    assert signed.status == 200, signed.body
    mail = wait_for(
        lambda: smtp_server.to("min-ji@xn--bcher-kva.example"), "the email", worker=worker
    )[0]
    assert mail.message["To"] == "min-ji@xn--bcher-kva.example"
    assert [m.rcpt_tos for m in smtp_server.messages] == [["min-ji@xn--bcher-kva.example"]]
    assert Signature.objects.get().email == "min-ji@bücher.example"
