"""Settings for `make bench` only: the site's own, plus the bare insert view to compare with."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
