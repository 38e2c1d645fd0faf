"""Real-stack fixtures: an SMTP server (aiosmtpd), Celery publishing to Redis instead of running
eagerly, and a Celery worker started as a separate process against the test database.

Everything here is used only by tests marked `integration`, which skip unless DATABASE_URL names
a PostgreSQL database and REDIS_URL is set (the worker process needs a database and a broker it
can share with the test process: an in-memory SQLite database and the eager mode cannot be).
"""

from __future__ import annotations

import email
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TypeVar
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

T = TypeVar("T")

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.1
REAL_STACK_SKIP_REASON = (
    "the real-stack integration tests need DATABASE_URL=postgres://... and REDIS_URL=redis://... "
    "(PostgreSQL and Redis that a separate Celery worker process can share)"
)


def real_stack_configured() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and bool(
        os.environ.get("REDIS_URL", "").strip()
    )


# --- waiting ---------------------------------------------------------------------------------


def wait_for(
    condition: Callable[[], T | None],
    what: str,
    *,
    worker: CeleryWorker | None = None,
    timeout: float = WAIT_SECONDS,
) -> T:
    """Poll `condition` until it returns something truthy; fail with the worker's log if the
    deadline passes or the worker process dies first."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if worker is not None and worker.exited():
            pytest.fail(
                f"the Celery worker exited (code {worker.process.returncode}) while waiting for "
                f"{what}.\n{worker.describe_log()}",
                pytrace=False,
            )
        if time.monotonic() >= deadline:
            details = worker.describe_log() if worker is not None else ""
            pytest.fail(
                f"timed out after {timeout:.0f} s waiting for {what}.\n{details}", pytrace=False
            )
        time.sleep(POLL_SECONDS)


# --- SMTP ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None, f"no text/plain part in {self.message}"
        return body.get_content()


@dataclass
class MailSink:
    """The aiosmtpd handler: keeps every message it is given, thread-safely."""

    host: str = "127.0.0.1"
    port: int = 0
    _messages: list[ReceivedMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
        received = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[attr-defined]
        with self._lock:
            self._messages.append(received)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def describe(self) -> str:
        return "SMTP server received: " + (
            ", ".join(f"{m.message['Subject']!r} to {m.rcpt_tos}" for m in self.messages)
            or "nothing"
        )


SinkT = TypeVar("SinkT", bound=MailSink)


@contextmanager
def serving(sink: SinkT) -> Iterator[SinkT]:
    """A real SMTP server on sink's host and port, handing what it receives to sink."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    # aiosmtpd logs every connection at INFO; keep failure reports to what matters.
    smtp_log = logging.getLogger("mail.log")
    previous_level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    controller = controller_module.Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
        smtp_log.setLevel(previous_level)


@pytest.fixture
def smtp_server() -> Iterator[MailSink]:
    """A real SMTP server on 127.0.0.1 and a free port, collecting what it receives."""
    with serving(MailSink(port=free_port())) as sink:
        yield sink


# --- Celery ----------------------------------------------------------------------------------


@pytest.fixture
def celery_publishes_to_redis() -> Iterator[None]:
    """Make the web side (the test process and its live_server thread) publish tasks to Redis
    instead of running them in-process, on an empty queue; restore eager mode afterwards.

    The settings have no way to name the queue, so isolation is by purging the default queue
    before and after: run these tests on a Redis database of their own."""
    assert settings.REDIS_URL, "REDIS_URL must be set for the real-stack tests"
    assert celery_app.conf.broker_url == settings.REDIS_URL, celery_app.conf.broker_url
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        yield
    finally:
        celery_app.control.purge()
        celery_app.conf.task_always_eager = previous


@dataclass
class CeleryWorker:
    process: subprocess.Popen[bytes]
    nodename: str
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe_log(self) -> str:
        return f"--- Celery worker {self.nodename} log ({self.log_path}) ---\n{self.log()}"

    def exited(self) -> bool:
        return self.process.poll() is not None

    def wait_until_ready(self) -> None:
        name = re.escape(self.nodename.split("@")[0])
        wait_for(
            lambda: re.search(rf"\b{name}@\S+ ready\.", self.log()),
            f"the Celery worker {self.nodename} to report ready",
            worker=self,
        )

    def stop(self) -> None:
        if self.exited():
            return
        self.process.terminate()  # SIGTERM: Celery's warm shutdown
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _test_database_url() -> str:
    """DATABASE_URL with the database replaced by pytest-django's test database."""
    name = connection.settings_dict["NAME"]
    parts = urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path=f"/{name}").geturl()


@pytest.fixture
def worker_env(live_server, smtp_server: MailSink, transactional_db: None) -> dict[str, str]:
    """The environment of the worker process: same test database, broker and SECRET_KEY as the
    test process (confirmation tokens are HMACs of SECRET_KEY), mail over SMTP to
    `smtp_server`, links pointing at the live server."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_test_database_url(),
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_SETTINGS_MODULE="config.settings",
        SITE_URL=live_server.url,
        EMAIL_HOST=smtp_server.host,
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="false",
        EMAIL_TIMEOUT="5",
        CONFIRMATION_REQUEUE_AFTER_SECONDS="10",
        PYTHONUNBUFFERED="1",
    )
    for name in ("EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"):
        env.pop(name, None)
    return env


def _celery_command() -> list[str]:
    script = Path(sys.executable).with_name("celery")
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery"]


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], celery_publishes_to_redis: None, tmp_path: Path
) -> Iterator[Callable[[], CeleryWorker]]:
    """Start `celery -A config worker --pool solo` as a separate process (call it when the test
    wants the worker to be up); every worker started is stopped at teardown."""
    workers: list[CeleryWorker] = []

    def start() -> CeleryWorker:
        nodename = f"sp-integration-{uuid.uuid4().hex[:8]}@%h"
        log_path = tmp_path / f"worker-{len(workers)}.log"
        command = [
            *_celery_command(),
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "-n",
            nodename,
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=worker_env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        worker = CeleryWorker(process, nodename, log_path)
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


# --- A Redis and a web server of the test's own ------------------------------------------------

REDIS_SERVER = "/usr/bin/redis-server"


@dataclass
class RedisServer:
    """A redis-server on a port of its own, which the test may stop (kill) and start again:
    the shared Redis is never stopped. It keeps nothing on disk, as in production."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_for(lambda: _answers(client.ping), f"redis-server on port {self.port}")
        client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL: gone at once, with everything it held)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _answers(call: Callable[[], T]) -> T | None:
    try:
        return call()
    except (OSError, redis.RedisError):
        return None


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"needs {REDIS_SERVER}")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class WebServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_web(
    transactional_db: None, smtp_server: MailSink, tmp_path: Path
) -> Iterator[Callable[..., WebServer]]:
    """Start gunicorn (one sync worker, as `make serve` runs it) as a separate process on the
    test database, with the environment given; every one started is stopped at teardown."""
    servers: list[WebServer] = []

    def start(**environment: str) -> WebServer:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_test_database_url(),
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
            DJANGO_SETTINGS_MODULE="config.settings",
            SITE_URL=url,
            EMAIL_HOST=smtp_server.host,
            EMAIL_PORT=str(smtp_server.port),
            PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
            PYTHONUNBUFFERED="1",
            **environment,
        )
        log_path = tmp_path / f"web-{len(servers)}.log"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        server = WebServer(process, url, log_path)
        servers.append(server)
        client = HttpClient(url)
        wait_for(
            lambda: _answers(lambda: client.get("/privacy/").status == 200), f"gunicorn at {url}"
        )
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.process.terminate()
            server.process.wait(timeout=10)


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    url: str
    body: str


class HttpClient:
    """A plain urllib client with a cookie jar, following redirects as a browser does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.cookies))

    def _open(self, request: Request) -> Response:
        try:
            with self._opener.open(request, timeout=15) as response:
                return Response(response.status, response.url, response.read().decode())
        except HTTPError as error:
            return Response(error.code, error.url, error.read().decode(errors="replace"))

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else self.base_url + url

    def get(self, url: str) -> Response:
        return self._open(Request(self._absolute(url)))

    def post(self, url: str, data: dict[str, str]) -> Response:
        absolute = self._absolute(url)
        request = Request(
            absolute,
            data=urlencode(data).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": absolute,
                "Origin": self.base_url,  # as a browser sends with every POST
            },
        )
        return self._open(request)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def http(live_server) -> HttpClient:
    return HttpClient(live_server.url)
