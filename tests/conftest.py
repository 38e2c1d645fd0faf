"""Shared fixtures: a small cast of people and a campaign with petitions in each state."""

from __future__ import annotations

import socket
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from celery.app.task import Task
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone, translation
from kombu.exceptions import OperationalError

from accounts.models import Membership, Organisation, User
from campaigns.models import Campaign
from config import memos
from config.cache import COUNTED_ALONE, cache_outage
from config.celery import app as celery_app
from config.celery import broker_outage
from petitions.models import Demand, Petition, Signature
from petitions.services import counting

# Unit tests run tasks in-process; the integration tests turn this off and use a real worker.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Every test makes staff users; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def as_in_production(settings):
    """Counts are folded in batches and each process keeps its memos, as in production (with
    Redis and a worker); tests of the embedded default's inline fold set COUNT_FOLD_INLINE.
    A test that looks again after a change does what anyone would: a_moment_later()."""
    settings.COUNT_FOLD_INLINE = False
    settings.PETITION_MEMO_SECONDS = 1


def a_moment_later() -> None:
    """What the site shows a moment later: the periodic fold has added the waiting tallies to
    the counts (COUNT_FOLD_INTERVAL_SECONDS), and every process's memos have expired."""
    counting.fold_all()
    memos.forget_all()


def pass_second_factor(client: Client, user: User) -> None:
    """What accounts/two_factor.py does when a code is right: the session names a confirmed
    device of the user's (one is made if they have none)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def staff_have_passed_their_second_factor(monkeypatch):
    """client.force_login() logs a member of staff in as the login page and the second factor
    together would; force_login(user, second_factor=False) stops after the password."""
    password_only = Client.force_login

    def force_login(self, user, backend=None, *, second_factor=True):
        password_only(self, user, backend)
        if second_factor:
            pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached figures are keyed by petition id, which a new test database reuses: start clean."""
    cache.clear()
    memos.forget_all()  # and what this process kept of a test's rolled-back rows


@pytest.fixture(autouse=True)
def in_english():
    """Each test starts in the site's default language, as each request does (the language a
    request activates stays with its thread, and the test client runs requests in the test's)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def no_outage_left_over():
    """A test that found Redis or the broker down must not leave later tests going without."""
    yield
    cache_outage.ended()
    broker_outage.ended()


def redis_cache(url: str) -> dict:
    """The cache as config/settings.py configures it with REDIS_URL=url."""
    return {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "CONNECTION_POOL_CLASS": "config.cache.ConnectionPool",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }


def unused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (a connection to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cache_down(settings):
    """The cache is Redis, on a port where nothing listens."""
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{unused_port()}/0")}
    LocMemCache(COUNTED_ALONE, {}).clear()  # what was counted alone in an earlier test


@pytest.fixture
def broker_down():
    """Every task queued fails as Celery does when its broker refuses the connection, until the
    test calls the function this gives (the broker is back, and this process has seen it). The
    integration tests stop a real Redis."""

    def refused(task, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Task, "apply_async", refused)

        def back() -> None:
            patch.undo()
            broker_outage.ended()

        yield back


class Broker:
    """What a worker would find on the broker: each task queued, with its arguments and delay,
    held until the test lets the worker run them (run())."""

    def __init__(self) -> None:
        self.waiting: list[tuple[str, tuple, float | None]] = []

    def run(self) -> list:
        """Run every task waiting (in the order queued, delays over), as a worker would; return
        their results. What they queue in turn waits for the next run()."""
        waiting, self.waiting = self.waiting, []
        return [celery_app.tasks[name](*args) for name, args, _ in waiting]  # not eagerly


@pytest.fixture
def broker(monkeypatch) -> Broker:
    """Tasks are not run as they are queued (eagerly) but wait on the broker, as they do with a
    real worker, until the test runs them."""
    held = Broker()

    def publish(task, args=None, kwargs=None, countdown=None, **options):
        assert not kwargs, "tasks take positional arguments"
        held.waiting.append((task.name, tuple(args or ()), countdown))

    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(Task, "apply_async", publish)
    return held


@pytest.fixture
def organisation(db) -> Organisation:
    return Organisation.objects.create(name="Release International", slug="release")


@pytest.fixture
def other_organisation(db) -> Organisation:
    return Organisation.objects.create(name="Another Group", slug="another")


def _member(username: str, organisation: Organisation, role: str) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.org", "correct horse battery", is_staff=True
    )
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def owner(organisation) -> User:
    """Olivia owns the organisation."""
    return _member("olivia", organisation, Membership.Role.OWNER)


@pytest.fixture
def manager(organisation) -> User:
    """Manuel runs campaigns."""
    return _member("manuel", organisation, Membership.Role.MANAGER)


@pytest.fixture
def viewer(organisation) -> User:
    """Vera may look, but never at signers' email addresses."""
    return _member("vera", organisation, Membership.Role.VIEWER)


@pytest.fixture
def outsider(other_organisation) -> User:
    """Oscar belongs to another organisation and must see nothing of ours."""
    return _member("oscar", other_organisation, Membership.Role.OWNER)


@pytest.fixture
def private_media(settings, tmp_path):
    """Documents go to tmp_path: tasks and views both read the setting when they run."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "correct horse battery")


@pytest.fixture
def campaign(organisation) -> Campaign:
    return Campaign.objects.create(
        organisation=organisation,
        title_en="Run for your Life",
        slug="run-for-your-life",
        tagline_en="China is no safe haven.",
        status=Campaign.Status.LIVE,
    )


def make_petition(campaign: Campaign, slug: str, **fields) -> Petition:
    defaults = {
        "title_en": f"Petition {slug}",
        "target_en": "The Government of the People's Republic of China",
        "statement_en": "Grant North Korean refugees safe passage.",
        "goal": 100,
        "status": Petition.Status.OPEN,
        "opens_at": timezone.now() - timedelta(days=1),
    }
    petition = Petition.objects.create(campaign=campaign, slug=slug, **{**defaults, **fields})
    return petition


@pytest.fixture
def petition(campaign) -> Petition:
    petition = make_petition(campaign, "safe-passage", title_en="Grant refugees safe passage")
    for position, text in enumerate(
        ["Grant them refugee status.", "Give them safe passage.", "Stop forcible repatriation."],
        start=1,
    ):
        Demand.objects.create(petition=petition, position=position, text_en=text)
    return petition


@pytest.fixture
def closed_petition(campaign) -> Petition:
    return make_petition(campaign, "closed-one", status=Petition.Status.CLOSED)


@pytest.fixture
def draft_petition(campaign) -> Petition:
    return make_petition(campaign, "draft-one", status=Petition.Status.DRAFT)


def make_signature(petition: Petition, email: str = "min-ji@example.org", **fields) -> Signature:
    defaults = {"name": "Min-ji", "country": "KR", "city": "Seoul"}
    return Signature.objects.create(
        petition=petition,
        email=email,
        email_canonical=Signature.canonical_email(email),
        **{**defaults, **fields},
    )


def with_a_crowd(petition: Petition, n: int = 2000) -> None:
    """n ordinary signatures more on the petition, and the table's statistics taken again, so
    that PostgreSQL's planner chooses as it would on a real petition, not on a handful of rows."""
    Signature.objects.bulk_create(
        Signature(petition=petition, name=f"Crowd {i}", email=f"c{i}@example.net",
                  email_canonical=f"c{i}@example.net", country="GB")
        for i in range(n)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Signature._meta.db_table}")


SIGN_DATA = {
    "name": "Kim Min-ji",
    "email": "min-ji@example.org",
    "country": "KR",
    "city": "Seoul",
    "consent": "on",
}


def post_form(client: Client, url: str, data: dict, **extra):
    """POST as a browser posts a form, URL-encoded (the test client would send multipart, which
    the sign view refuses)."""
    return client.post(
        url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded", **extra
    )


def on_commit_runs():
    """Run transaction.on_commit callbacks (the queued emails) as the test's transaction
    never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)
