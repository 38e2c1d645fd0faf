from __future__ import annotations

import logging

from petitions import tasks
from petitions.models import Petition, Signature
from petitions.services import counting
from tests.conftest import make_signature


def test_the_periodic_recount_repairs_a_tampered_counter_and_logs_it(petition, caplog):
    for n in range(3):
        make_signature(petition, f"s{n}@example.org", status=Signature.Status.CONFIRMED)
    make_signature(petition, "pending@example.org")
    Petition.objects.filter(pk=petition.pk).update(signature_count=99)

    with caplog.at_level(logging.WARNING, logger="petitions.services.signing"):
        repaired = tasks.recount_petitions.apply().get()

    petition.refresh_from_db()
    assert petition.signature_count == 3
    assert repaired == 1
    assert "drifted: 99 -> 3" in caplog.text


def test_an_exact_counter_is_left_alone_and_nothing_is_logged(petition, caplog):
    make_signature(petition, "a@example.org", status=Signature.Status.CONFIRMED)
    counting.rebuild(petition)

    with caplog.at_level(logging.WARNING, logger="petitions.services.signing"):
        assert tasks.recount_petitions.apply().get() == 0

    assert "drifted" not in caplog.text
