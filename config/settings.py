"""Safe Passage settings, read from the environment (see README, "Configuration").

Unset, everything falls back to the embedded default: SQLite under var/, Celery tasks run eagerly
in the request, a local-memory cache, and email written as files under var/mail/.
A bad value stops start-up with an ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.private_files import private_file, private_folder, tighten

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SAFE_PASSAGE_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def envint(name: str, default: int, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}; got {value}")
    return value


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envurl(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = envstr(name, default)
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}; "
            f"got {value!r}"
        )
    return value


def _embedded_secret_key() -> str:
    """A random key kept in var/ so that a fresh install needs no configuration. Production sets
    DJANGO_SECRET_KEY; the key is never in the repository."""
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        private_folder(VAR_DIR)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key
    except FileExistsError:  # another process wrote it between our read and our write
        return path.read_text().strip()


DEBUG = envbool("DJANGO_DEBUG", False)
SECRET_KEY = envstr("DJANGO_SECRET_KEY") or _embedded_secret_key()
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 32 characters long")

SITE_URL = envurl("SITE_URL", "http://127.0.0.1:8000", ("http", "https")).rstrip("/")
_site = urlsplit(SITE_URL)
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", f"127.0.0.1,localhost,{_site.hostname}")
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "config.apps.StaffAdminConfig",  # django.contrib.admin, with the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",  # django-csp: its policy format, decorators and checks (config/headers.py)
    "axes",
    "django_otp",
    "config.apps.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp
    "config.apps.BackupCodesConfig",  # django_otp.plugins.otp_static
    "django_countries",
    "accounts",
    "campaigns",
    "petitions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policies too.
    "config.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the URL; a first visit goes to the browser's language (config/language.py).
    "config.language.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "accounts.middleware.AuditActorMiddleware",  # who acts, for the audit log's model signals
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers a locked-out login with templates/login_locked.html.
    "axes.middleware.AxesMiddleware",
]

# Staff login: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one client, that
# pair is locked out for LOGIN_LOCKOUT_MINUTES (django-axes); a success resets the count. And a
# username that had LOGIN_USERNAME_FAILURE_LIMIT failed logins from anywhere in the last
# LOGIN_USERNAME_LOCKOUT_MINUTES is refused, except from a network its user signed in from in
# the last LOGIN_KNOWN_NETWORK_DAYS (accounts/lockout.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.lockout.UsernameLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, 1, 1000)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, 1, 10_080))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout do not count again: a lockout is not lengthened by them, and
# its owner retrying during a lock on the username is not then locked out by axes as well.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
LOGIN_USERNAME_FAILURE_LIMIT = envint("LOGIN_USERNAME_FAILURE_LIMIT", 20, 1, 100_000)
LOGIN_USERNAME_LOCKOUT_MINUTES = envint("LOGIN_USERNAME_LOCKOUT_MINUTES", 10, 1, 1440)
LOGIN_KNOWN_NETWORK_DAYS = envint("LOGIN_KNOWN_NETWORK_DAYS", 30, 0, 3650)
# Staff passwords: at least 12 characters, not a common one, not like the user's name or address.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_LOCKOUT_TEMPLATE = "login_locked.html"
# The client as the signing limits count it: X-Forwarded-For only via TRUSTED_PROXIES, and an
# IPv6 client by its /64 (axes keeps that network's first address).
AXES_CLIENT_IP_CALLABLE = "config.web.client_for_limits"
AXES_VERBOSE = False  # its log lines name addresses; logins are in the audit log instead
AXES_DISABLE_ACCESS_LOG = True

# The second factor (accounts/two_factor.py): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = "Safe Passage"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "libraries": {"languages": "config.language"},
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another.
_default_db = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(envstr("DATABASE_URL") or _default_db, conn_max_age=60)
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers go on while a signature is written; IMMEDIATE takes the write lock at the
    # start of a transaction, so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Signers' names and addresses: the file is made 0600 before SQLite first opens it (SQLite
    # gives its -wal and -shm files the same mode), and one made before this rule is tightened.
    _database = Path(DATABASES["default"]["NAME"])
    if str(_database) not in ("", ":memory:"):
        if _database.parent == VAR_DIR:
            private_folder(VAR_DIR)
        _database.parent.mkdir(parents=True, exist_ok=True)
        private_file(_database)
        for _suffix in ("-wal", "-shm", "-journal"):
            tighten(_database.with_name(_database.name + _suffix))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the Celery broker and the cache. Unset, tasks run eagerly and the cache is in-process.
REDIS_URL = envurl("REDIS_URL", "", ("redis", "rediss"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sp",
            # django-redis; while Redis cannot be reached the cache goes on without it
            # (config/cache.py). One that does not answer is given up on quickly, rather than
            # holding the request.
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "CONNECTION_POOL_CLASS": "config.cache.ConnectionPool",
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that queues a task must not hang on a broker that is down: fail fast, and let the
# periodic sweeps pick the work up (the row is already saved; config.celery.queue). A Redis that
# accepts connections and never answers costs one request per process every few seconds this
# long (config.outages).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TIMEZONE = "UTC"

# Email: SMTP when EMAIL_HOST is set, else one file per message under var/mail/.
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_PORT = envint("EMAIL_PORT", 587 if envbool("EMAIL_USE_TLS", False) else 25, 1, 65535)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20, 1, 600)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "config.private_files.FileEmailBackend"  # Django's, writing 0600 files
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Safe Passage <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Signing
CONFIRMATION_EMAILS_MAX = envint("CONFIRMATION_EMAILS_MAX", 3, 1, 20)
CONFIRMATION_REQUEUE_AFTER_SECONDS = envint("CONFIRMATION_REQUEUE_AFTER_SECONDS", 300, 10)
# Confirmation emails go out in batches over one SMTP connection: the first signature since the
# last batch queues the next one this much later.
CONFIRMATION_BATCH_DELAY_MS = envint("CONFIRMATION_BATCH_DELAY_MS", 500, 0, 60_000)

# Abuse (services/abuse.py): a burst of signatures from one client address, one email domain or
# to one petition is held, not counted, until staff release it; superusers set the limits in the
# admin (SigningLimit). SIGNING_RATE_LIMITS=0 turns them off for load tests from one host.
SIGNING_RATE_LIMITS = envbool("SIGNING_RATE_LIMITS", True)
# Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks); empty: none.
try:
    TRUSTED_PROXIES = [
        ipaddress.ip_network(n, strict=False) for n in envlist("TRUSTED_PROXIES", "") if n
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None

# How long a rendered petition page is reused at most (it is rendered again at once when the
# count or the petition changes).
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", 10, 0, 3600)
# How long each web process reuses a petition it read for the page and the sign form (0: never).
PETITION_MEMO_SECONDS = envint("PETITION_MEMO_SECONDS", 1, 0, 60)
# Counting (services/counting.py): confirmations write tallies that a fold adds to the kept
# counts. With tasks in-process (no Redis) the fold runs inside each confirmation; otherwise a
# confirmation folds if none has in the last COUNT_FOLD_INTERVAL_SECONDS, batching the others.
COUNT_FOLD_INLINE = envbool("COUNT_FOLD_INLINE", not REDIS_URL)
COUNT_FOLD_INTERVAL_SECONDS = envint("COUNT_FOLD_INTERVAL_SECONDS", 1, 1, 60)

CELERY_BEAT_SCHEDULE = {
    "advance-petitions": {
        "task": "petitions.tasks.advance_petitions",
        "schedule": 60.0,
    },
    "fold-counts": {
        "task": "petitions.tasks.fold_counts",
        "schedule": 10.0,
    },
    "requeue-unsent-confirmations": {
        "task": "petitions.tasks.requeue_unsent_confirmations",
        "schedule": 300.0,
    },
    "requeue-stuck-documents": {
        "task": "petitions.tasks.requeue_stuck_documents",
        "schedule": 300.0,
    },
    "recount-petitions": {
        "task": "petitions.tasks.recount_petitions",
        "schedule": 3600.0,
    },
    "delete-expired-exports": {
        "task": "petitions.tasks.delete_expired_exports",
        "schedule": 3600.0,
    },
}

# The site in English (at unprefixed URLs, as before translations), Korean, Simplified Chinese
# and Japanese (at /ko/…, /zh-hans/…, /ja/…): config/language.py, docs/architecture.md.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("ko", "한국어"),
    ("zh-hans", "简体中文"),
    ("ja", "日本語"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as the site has always written them (3 December 2026), not Django's American
# default; the other languages keep Django's own formats (2026년 12월 3일).
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Documents with signers' names (presentations, exports) live here, never under a public URL.
PRIVATE_MEDIA_ROOT = Path(envstr("PRIVATE_MEDIA_ROOT") or VAR_DIR / "private")
# Static font instances built from the packaged variable fonts (petitions/documents/fonts.py).
FONT_CACHE_DIR = Path(envstr("FONT_CACHE_DIR") or VAR_DIR / "fonts")
# Exports of more signatures than this run in Celery instead of the request.
EXPORT_BACKGROUND_THRESHOLD = envint("EXPORT_BACKGROUND_THRESHOLD", 20_000, 0)
# An export's file (a list of signers, with addresses for owners and managers) is deleted this
# many days after it was built (petitions.services.retention.delete_expired_exports, hourly).
EXPORT_RETENTION_DAYS = envint("EXPORT_RETENTION_DAYS", 7, 1, 3650)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security. With an https SITE_URL: secure cookies, HTTP redirected to HTTPS, and HSTS for a
# year (with subdomains; "preload" only makes the domain eligible for browsers' lists). Behind a
# proxy that ends TLS, DJANGO_BEHIND_TLS_PROXY=1 tells Django the request was https; without
# it every request looks like http and is redirected again, for ever.
_https = _site.scheme == "https"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("DJANGO_BEHIND_TLS_PROXY", False) else None
)
# Every response (config/headers.py): scripts, styles and everything else from this site only,
# nothing inline, framed by no one (the embed card by anyone: petitions.web.pages.embed). Images
# may also be data: URLs, as Bootstrap's CSS draws its form controls (a select's arrow, a
# checkbox's tick) with them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features the site never uses, refused to it and to anything it might ever frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer autoplay camera display-capture encrypted-media fullscreen geolocation "
        "gyroscope magnetometer microphone midi payment publickey-credentials-get "
        "screen-wake-lock usb xr-spatial-tracking"
    ).split()
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Every log record, of every logger and process, is redacted when it is made: no tokens from
# confirmation or password reset links, no query string values, no email addresses
# (config/log_redaction.py).
LOGGING_CONFIG = "config.log_redaction.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "fpdf": {"level": "WARNING"},
    },
}
