"""Confirmation tokens.

A token is an HMAC of the signature's public id, keyed by SECRET_KEY, so nothing that confirms a
signature is stored in the database: a copy of the database alone cannot confirm anything, and
every re-sent email carries the same working link.
"""

from __future__ import annotations

from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "petitions.confirmation"


def make_token(signature_uuid: object) -> str:
    return salted_hmac(_SALT, str(signature_uuid), algorithm="sha256").hexdigest()[:40]


def check_token(signature_uuid: object, token: str) -> bool:
    return constant_time_compare(make_token(signature_uuid), token)
