"""No input to the sign form produces a 5xx or a signature it should not, and the sign view reads
only form-encoded bodies of a signature's size."""

from __future__ import annotations

import random
import unicodedata
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, FakePayload, encode_multipart
from django.urls import reverse

from petitions.models import Signature
from tests.conftest import SIGN_DATA, post_form


def sign_url(petition) -> str:
    return reverse("petitions:sign", args=[petition.slug])


def random_text(rng: random.Random, length: int) -> str:
    # Mostly printable, with controls, surrogate-adjacent planes, combining marks and RTL.
    ranges = [
        (0x0, 0x7F),
        (0x80, 0x24F),
        (0x300, 0x36F),
        (0x590, 0x6FF),
        (0xAC00, 0xD7A3),
        (0x4E00, 0x9FFF),
        (0x2000, 0x206F),
        (0xFFF0, 0xFFFF),
        (0x1F300, 0x1F64F),
    ]
    chars = []
    for _ in range(length):
        low, high = rng.choice(ranges)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def test_random_input_never_crashes_and_valid_input_is_kept_as_sent(client, petition):
    rng = random.Random(20081008)
    for _ in range(150):
        data = {
            "name": random_text(rng, rng.randint(0, 260)),
            "email": rng.choice([random_text(rng, 20), f"{rng.random()}@example.org"]),
            "country": rng.choice(["KR", "GB", "", "xx", random_text(rng, 3)]),
            "city": random_text(rng, rng.randint(0, 120)),
            "consent": rng.choice(["on", "", "yes"]),
        }
        response = post_form(client, sign_url(petition), data)
        assert response.status_code in (302, 400), data
    for signature in Signature.objects.all():
        assert not any(unicodedata.category(ch) == "Cc" for ch in signature.name)
        assert len(signature.name) <= 200


def test_a_huge_body_is_refused_without_a_crash(client, petition):
    response = post_form(client, sign_url(petition), {**SIGN_DATA, "name": "A" * 400_000})

    assert response.status_code == 413
    assert not Signature.objects.exists()


def test_too_many_fields_are_refused_without_a_crash(client, petition):
    data = {**SIGN_DATA, **{f"f{n}": "x" for n in range(1200)}}

    assert post_form(client, sign_url(petition), data).status_code == 400
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"name=%FF%FE&email=a%40example.org&country=KR&consent=on", b"\xff\xfe\x00garbage", b"x"],
)
def test_a_malformed_body_is_a_form_error(client, petition, body):
    response = client.post(
        sign_url(petition), body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_a_post_without_a_body_or_a_type_is_refused_unread(client, petition):
    response = client.post(sign_url(petition))  # the test client sends no Content-Type then

    assert response.status_code == 415
    assert not Signature.objects.exists()


def test_a_json_body_is_refused_unread(client, petition):
    response = client.post(sign_url(petition), SIGN_DATA, content_type="application/json")

    assert response.status_code == 415
    assert not Signature.objects.exists()


def test_repeated_fields_take_one_value(client, petition):
    response = Client().post(
        sign_url(petition),
        "name=A&name=B&email=a%40example.org&email=b%40example.org&country=KR&consent=on",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 302
    assert Signature.objects.get().email in ("a@example.org", "b@example.org")
    assert Signature.objects.count() == 1


def test_a_cross_site_post_gets_a_friendly_page(petition):
    response = Client(enforce_csrf_checks=True).post(
        sign_url(petition), SIGN_DATA, HTTP_SEC_FETCH_SITE="cross-site"
    )

    assert response.status_code == 403
    assert b"nothing was recorded" in response.content
    assert not Signature.objects.exists()


class WatchedBody(FakePayload):
    """A request body that remembers whether anything read it."""

    read_from = False

    def read(self, *args, **kwargs) -> bytes:
        self.read_from = True
        return super().read(*args, **kwargs)

    def readline(self, *args, **kwargs) -> bytes:
        self.read_from = True
        return super().readline(*args, **kwargs)


def post_body(client, petition, body: bytes, content_type: str) -> tuple:
    """POST body to the sign view; (the response, whether the body was read)."""
    watched = WatchedBody(body)
    response = client.post(
        sign_url(petition), body, content_type=content_type, **{"wsgi.input": watched}
    )
    return response, watched.read_from


def test_a_multipart_post_with_a_file_is_refused_before_it_is_read(client, petition):
    upload = SimpleUploadedFile("big.bin", b"x" * 3 * 1024 * 1024)
    body = encode_multipart(BOUNDARY, {**SIGN_DATA, "file": upload})

    response, read = post_body(client, petition, body, f"multipart/form-data; boundary={BOUNDARY}")

    assert response.status_code == 415
    assert not read  # nor spooled to disk
    assert "did not arrive as this form sends them" in response.content.decode()
    assert "nothing has been recorded" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_form_encoded_body_beyond_the_limit_is_refused_before_it_is_read(client, petition):
    body = urlencode({**SIGN_DATA, "name": "A" * 20_000}).encode()

    response, read = post_body(client, petition, body, "application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert not read
    assert "longer than this form takes" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_body_within_the_limit_is_read(client, petition):
    """The watch above sees a read when there is one."""
    response, read = post_body(
        client, petition, urlencode(SIGN_DATA).encode(), "application/x-www-form-urlencoded"
    )

    assert response.status_code == 302 and read


def test_the_largest_honest_signature_is_within_the_limit(client, petition):
    from petitions.web.signing import SIGN_BODY_MAX_BYTES

    data = {
        **SIGN_DATA,
        "name": "𝔄" * 200,  # four bytes of UTF-8 each
        "city": "𝔅" * 100,
        "email": "a" * 64 + "@" + ".".join(["ü" * 20] * 8) + ".example",
        "website": "",
        "sign": "Sign this petition",
    }
    body = urlencode(data)
    assert len(data["email"]) <= 254 and len(body) < SIGN_BODY_MAX_BYTES / 2

    assert post_form(client, sign_url(petition), data).status_code == 302
    assert Signature.objects.get().name == "𝔄" * 200


@pytest.mark.parametrize("length", ["nonsense", "-1", "１２"])
def test_a_content_length_that_is_not_a_length_is_refused_not_a_server_error(
    client, petition, length
):
    response = post_form(client, sign_url(petition), SIGN_DATA, CONTENT_LENGTH=length)

    assert response.status_code == 400
    assert "did not arrive as this form sends them" in response.content.decode()
    assert not Signature.objects.exists()
