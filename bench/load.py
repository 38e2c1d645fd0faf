"""`make bench`: the whole stack under load, in one run, sent only to 127.0.0.1 and bounded in time.

Starts gunicorn, a Celery worker (with beat) and an SMTP sink against PostgreSQL and Redis, on a
database of its own (dropped and created again), warms them up (2 s of bare and sign POSTs, not
counted) and waits until they are idle, then drives them with wrk:

1. a bare Django view that inserts one row (same stack and middleware): the yardstick, for half
   the time before the sign POSTs and half after them;
2. sign POSTs: the real form post, as a browser sends it (Origin and Sec-Fetch-Site headers), a
   new address each;
3. confirmation POSTs for the signatures just made, while a sampler measures the counter's lag;
4. petition page GETs and 5. count endpoint GETs.

It prints requests per second, p50/p99 latency and the ratio to the bare view side by side, then
checks that the kept counts equal the confirmed rows exactly and that every accepted sign POST
left one signature. Exit status 1 if a check fails. The targets are printed beside the figures;
they are not pass/fail conditions.

Needs wrk (apt-get install wrk). Environment: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/safe_passage_bench_load), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/5), BENCH_PORT (8011), BENCH_SECONDS per phase (10), BENCH_LANGUAGE (the
site's language for every page, sign and confirmation: en, ko, zh-hans or ja; en), WEB_CONCURRENCY
(gunicorn workers, 3, as `make serve`), WORKER_CONCURRENCY (Celery, 2).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

from scratch import scratch_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/safe_passage_bench_load"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
PORT = int(os.environ.get("BENCH_PORT", "8011"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WEB_WORKERS = os.environ.get("WEB_CONCURRENCY", "3")
CELERY_WORKERS = os.environ.get("WORKER_CONCURRENCY", "2")
LANGUAGE = os.environ.get("BENCH_LANGUAGE", "en")
PREFIX = "" if LANGUAGE == "en" else f"/{LANGUAGE}"  # the language's URLs (config/urls.py)
BASE = f"http://127.0.0.1:{PORT}"
SLUG = "bench-load"
BIN = Path(sys.executable).parent

# wrk scripts. Each thread counts the status codes it got; done() prints them as one JSON line.
LUA_COMMON = """
local threads = {}
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
codes = {}
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("codes")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, '"' .. status .. '":' .. n) end
  io.write("CODES {" .. table.concat(parts, ",") .. "}\\n")
end
"""
LUA_POST_FORM = (
    LUA_COMMON
    + """
local n = 0
function request()
  n = n + 1
  local body = "csrfmiddlewaretoken=%(token)s&name=Bench+Signer&email=load-" .. id .. "-" .. n ..
    "-%(run)s%%40example.org&country=%(country)s&city=Seoul&consent=on"
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=%(cookie)s",
    ["Origin"] = "%(origin)s",
    ["Sec-Fetch-Site"] = "same-origin",
  }, body)
end
"""
)
LUA_POST_LINKS = (
    LUA_COMMON
    + """
local paths = {}
function init(args)
  local i = 0
  for line in io.lines("%(file)s") do
    if i %% %(threads)d == id - 1 then table.insert(paths, line) end
    i = i + 1
  end
end
local n = 0
function request()
  n = n %% #paths + 1
  return wrk.format("POST", paths[n], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=%(cookie)s",
  }, "csrfmiddlewaretoken=%(token)s")
end
"""
)
LUA_GET = LUA_COMMON


@dataclass
class Run:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    codes: dict[str, int]

    @classmethod
    def merged(cls, rounds: list[Run]) -> Run:
        """Rounds of equal length as one run: the mean rate and p50, the worst p99."""
        codes: dict[str, int] = {}
        for one in rounds:
            for code, n in one.codes.items():
                codes[code] = codes.get(code, 0) + n
        return cls(
            rounds[0].name,
            statistics.mean(one.rate for one in rounds),
            statistics.mean(one.p50_ms for one in rounds),
            max(one.p99_ms for one in rounds),
            codes,
        )

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.codes.items() if not code.startswith(("2", "3")))


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        SITE_URL=BASE,
        DJANGO_DEBUG="0",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(PORT + 1),
        CONFIRMATION_REQUEUE_AFTER_SECONDS="3600",  # the sink is slow to no one: no re-sends
        SIGNING_RATE_LIMITS="0",  # every sign POST comes from 127.0.0.1 (see services/abuse.py)
    )
    return env


def fresh_database() -> None:
    scratch_database(DATABASE_URL, afresh=True)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=child_env(), check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=child_env(), stdout=log.open("w"), stderr=subprocess.STDOUT,
        process_group=0,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def csrf_pair() -> tuple[str, str]:
    """(cookie, token) for the forms that check Django's CSRF token (the confirmation button and
    the bare view), as a browser gets them from a page with a form."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(name: str, path: str, lua: str, connections: int, seconds: int = SECONDS) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        output = subprocess.run(
            ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
             "-s", script.name, BASE + path],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))
    codes = json.loads(re.search(r"CODES (\{.*\})", output).group(1))
    return Run(name, rate, p50, p99, codes)


def cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) used so far by each process group named, and by PostgreSQL's
    processes, read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys([*groups, "postgres"], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        group, cpu = int(fields[2]), (int(fields[11]) + int(fields[12])) / tick
        for label, gid in groups.items():
            if group == gid:
                used[label] += cpu
        if name == "postgres":
            used["postgres"] += cpu
    return used


def wait_until_idle(groups: dict[str, int], seconds: float = 60) -> None:
    """Until the processes named (and PostgreSQL) use less than a tenth of a core."""
    deadline = time.monotonic() + seconds
    used = sum(cpu_seconds(groups).values())
    while time.monotonic() < deadline:
        time.sleep(1)
        now = sum(cpu_seconds(groups).values())
        if now - used < 0.1:
            return
        used = now
    raise SystemExit(f"the stack was still busy after {seconds} s")


class LagSampler(threading.Thread):
    """Samples (time, confirmed rows, kept count) every 0.2 s; the lag of a sample is how long
    until the kept count reached that sample's confirmed rows."""

    def __init__(self, petition_id: int) -> None:
        super().__init__(daemon=True)
        self.petition_id = petition_id
        self.samples: list[tuple[float, int, int]] = []
        self.running = True

    def run(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            while self.running:
                cursor.execute(
                    "SELECT (SELECT count(*) FROM petitions_signature WHERE petition_id = %s "
                    "AND status = 'confirmed'), (SELECT signature_count FROM petitions_petition "
                    "WHERE id = %s)",
                    [self.petition_id, self.petition_id],
                )
                rows, kept = cursor.fetchone()
                self.samples.append((time.monotonic(), rows, kept))
                time.sleep(0.2)
        connection.close()

    def lags(self) -> list[float]:
        lags = []
        for i, (moment, rows, _) in enumerate(self.samples):
            later = next((t for t, _, kept in self.samples[i:] if kept >= rows), None)
            if later is not None and rows:
                lags.append(later - moment)
        return lags


def main() -> int:
    if not shutil.which("wrk"):
        raise SystemExit("make bench needs wrk: apt-get install wrk")
    print(
        f"language {LANGUAGE}, database {DATABASE_URL}, redis {REDIS_URL}, {SECONDS} s per "
        f"phase, gunicorn {WEB_WORKERS} workers, celery {CELERY_WORKERS}, {os.cpu_count()} cores"
    )
    fresh_database()
    manage("migrate", "--noinput")
    manage("load_demo")
    manage("collectstatic", "--noinput")
    for key, value in child_env().items():
        os.environ[key] = value
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connection

    from campaigns.models import Campaign
    from petitions.models import Petition, Signature, Tally
    from petitions.tokens import make_token

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, body text)")
    petition = Petition.objects.create(
        campaign=Campaign.objects.get(slug="save-north-korean-refugees-day"),
        slug=SLUG,
        title_en="Benchmark: grant North Korean refugees safe passage",
        target_en="The Government of the People's Republic of China",
        statement_en="A petition for the load benchmark.",
        goal=100_000,
        status=Petition.Status.OPEN,
    )
    connection.close()

    logs = Path(tempfile.mkdtemp(prefix="safe-passage-bench-"))
    sink_count = logs / "emails-received"
    sink = start(
        ["nice", "-n", "10", sys.executable, "bench/smtp_sink.py", str(PORT + 1), str(sink_count)],
        logs / "smtp-sink.log",
    )
    web = start(
        [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers",
         WEB_WORKERS, "--log-level", "warning"],
        logs / "gunicorn.log",
    )  # fmt: skip
    # The worker runs at a lower priority, as it should in production: emails may queue for a
    # while, signing must not wait for them.
    worker = start(
        ["nice", "-n", "10", str(BIN / "celery"), "-A", "config", "worker", "--beat",
         "--loglevel", "WARNING", "--concurrency", CELERY_WORKERS,
         "--schedule", str(logs / "beat-schedule")],
        logs / "celery.log",
    )  # fmt: skip
    runs: list[Run] = []
    failures: list[str] = []
    try:
        wait_until_up(f"{BASE}/petitions/{SLUG}/")
        while not sink_count.exists():
            time.sleep(0.1)
        cookie, token = csrf_pair()
        form = {"token": token, "cookie": cookie, "country": "KR", "run": int(time.time()),
                "origin": BASE}  # fmt: skip
        groups = {"gunicorn": web.pid, "celery": worker.pid, "smtp sink": sink.pid}
        # Every process started and warm (each gunicorn worker and the Celery worker import
        # Django on their own, a second or two of CPU each), and the emails of the warm-up's
        # signatures sent, before anything is measured.
        sign_path = f"{PREFIX}/petitions/{SLUG}/sign/"
        warm_up = {**form, "run": f"warm-up-{form['run']}"}
        wrk("warm-up", "/bench/insert/", LUA_POST_FORM % {**warm_up, "path": "/bench/insert/"},
            32, seconds=2)  # fmt: skip
        wrk("warm-up", sign_path, LUA_POST_FORM % {**warm_up, "path": sign_path}, 32, seconds=2)
        wait_until_idle(groups)

        # The bare view runs for half the time before the sign POSTs and half after, once the
        # stack is idle again: on a shared machine whose speed drifts, the yardstick is then
        # taken around the sign phase, not only before it.
        bare_rounds: list[Run] = []
        cpu_bare = dict.fromkeys([*groups, "postgres"], 0.0)

        def bare_round() -> None:
            cpu_before = cpu_seconds(groups)
            bare_lua = LUA_POST_FORM % {**form, "path": "/bench/insert/"}
            bare_rounds.append(
                wrk("bare insert view", "/bench/insert/", bare_lua, 32, max(1, SECONDS // 2))
            )
            for label, used in cpu_seconds(groups).items():
                cpu_bare[label] += used - cpu_before[label]

        bare_round()
        before = Signature.objects.filter(petition=petition).count()
        cpu_before = cpu_seconds(groups)
        started = time.monotonic()
        runs.append(wrk("sign POST", sign_path, LUA_POST_FORM % {**form, "path": sign_path}, 32))
        elapsed = time.monotonic() - started
        time.sleep(1)  # requests still in flight when wrk stopped
        signed_rows = Signature.objects.filter(petition=petition).count() - before
        sign_rate = signed_rows / elapsed
        cpu_sign = {
            k: v - cpu_before[k] for k, v in cpu_seconds(groups).items()
        }  # over the sign phase and the second after
        # wrk stops with requests in flight: the server may finish up to one per connection
        # after wrk stopped counting, so rows may exceed the accepted POSTs by that much.
        accepted = runs[-1].codes.get("302", 0)
        if not accepted <= signed_rows <= accepted + 32:
            failures.append(f"sign: {accepted} POSTs accepted but {signed_rows} rows")
        wait_until_idle(groups)  # the sign POSTs' emails sent
        bare_round()
        runs.insert(0, Run.merged(bare_rounds))
        bare_requests = sum(runs[0].codes.values())

        pending = Signature.objects.filter(petition=petition, status="pending")
        links = [
            f"{PREFIX}/confirm/{uuid}/{make_token(uuid)}/"
            for uuid in pending.values_list("uuid", flat=True).order_by("?")
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths:
            paths.write("\n".join(links) + "\n")
        connection.close()
        sampler = LagSampler(petition.pk)
        sampler.start()
        cpu_before = cpu_seconds(groups)
        started = time.monotonic()
        runs.append(wrk("confirm POST", "/confirm/", LUA_POST_LINKS % {
            "file": paths.name, "threads": 1, "cookie": cookie, "token": token}, 32))  # fmt: skip
        elapsed = time.monotonic() - started
        confirmed_rows = Signature.objects.filter(petition=petition, status="confirmed").count()
        confirm_rate = confirmed_rows / elapsed
        cpu_confirm = {k: v - cpu_before[k] for k, v in cpu_seconds(groups).items()}
        time.sleep(3)  # the last fold comes an interval after the last confirmation
        sampler.running = False
        sampler.join()
        os.unlink(paths.name)
        lags = sampler.lags()

        runs.append(wrk("petition page GET", f"{PREFIX}/petitions/{SLUG}/", LUA_GET, 64))
        runs.append(wrk("count GET", f"/petitions/{SLUG}/count.json", LUA_GET, 64))

        # Exactness: the kept counts against the rows, once the last fold has run.
        deadline = time.monotonic() + 15
        while Tally.objects.filter(petition=petition).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        petition.refresh_from_db()
        rows = Signature.objects.filter(petition=petition, status="confirmed").count()
        all_rows = Signature.objects.filter(petition=petition).count()
        other_language = Signature.objects.filter(petition=petition).exclude(language=LANGUAGE)
        if other_language.exists():
            failures.append(f"signatures not in {LANGUAGE}: {other_language.count()}")
        countries = sum(petition.country_counts.values_list("count", flat=True))
        hours = sum(petition.hourly_counts.values_list("count", flat=True))
        for label, kept in [("count", petition.signature_count), ("by country", countries),
                            ("by hour", hours)]:  # fmt: skip
            if kept != rows:
                failures.append(f"{label}: kept {kept} but {rows} confirmed rows")
        deadline = time.monotonic() + 30  # every signature's email sent
        while Signature.objects.owed_email().exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        for run in runs:
            if run.errors:
                failures.append(f"{run.name}: {run.errors} error responses {run.codes}")
    finally:
        stop(web)
        stop(worker)
        stop(sink)
    emails = int(sink_count.read_text())
    if emails != all_rows:
        failures.append(f"emails: the SMTP sink received {emails} for {all_rows} signatures")

    bare = runs[0].rate
    print()
    print(f"{'':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  notes")
    for run in runs:
        note = ""
        if run.name == "bare insert view":
            note = "before and after the sign POSTs: " + " and ".join(
                f"{one.rate:,.0f}/s" for one in bare_rounds
            )
        elif run.name == "sign POST":
            note = (f"{sign_rate:,.0f} signatures/s, {run.rate / bare:.0%} of the bare view "
                    "(targets 500/s, 65%)")  # fmt: skip
        elif run.name == "confirm POST":
            note = f"{confirm_rate:,.0f} new confirmations/s"
        elif run.name == "petition page GET":
            note = "target 1,500/s"
        print(f"{run.name:22} {run.rate:>8,.0f} {run.p50_ms:>8.1f} {run.p99_ms:>8.1f}  {note}")
    print()
    per = [
        ("request, bare view", cpu_bare, bare_requests),
        ("signature, sign phase", cpu_sign, signed_rows),
        ("confirmation, confirm phase", cpu_confirm, confirmed_rows),
    ]
    for label, cpu, n in per:
        shares = ", ".join(f"{k} {v * 1000 / max(n, 1):.2f} ms" for k, v in cpu.items())
        print(f"CPU per {label}: {shares}")
    if lags:
        print(f"\ncounter lag while confirming: p50 {statistics.median(lags):.2f} s, "
              f"max {max(lags):.2f} s (target under 2 s), {len(lags)} samples")  # fmt: skip
    print(f"signatures {signed_rows:,} in the sign phase ({all_rows:,} with the warm-up's), "
          f"confirmed {rows:,}, kept count {petition.signature_count:,}, confirmation emails "
          f"received by the SMTP sink {emails:,}")  # fmt: skip
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\nexact: the kept counts (total, by country, by hour) equal the confirmed rows; "
          "every accepted sign POST left one signature, and its email reached the SMTP sink; "
          "no error responses")  # fmt: skip
    print(f"logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
