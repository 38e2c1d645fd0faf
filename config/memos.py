"""Every per-process memo, declared in one place with how long what it holds may live.

A memo keeps in this process's memory what a viral petition's thousands of requests a second
would otherwise each fetch or build again. Nothing that counts or decides access relies on one:
confirm() reads the petition again under its lock, and staff pages use none. Each memo says how
old its values may be (`seconds`; None: as long as the process, for what never changes while it
runs) and how many it keeps (`most`: it is emptied when full, a simple bound that suits keys that
come in bursts). A memo of rendered text is keyed by the language it was rendered in, so a page
in one language is never served in another. Tests start each memo empty (forget_all()).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings
from django.utils import translation

T = TypeVar("T")

MEMOS: list[Memo] = []


class Memo:
    def __init__(
        self,
        name: str,
        *,
        seconds: Callable[[], float] | float | None,
        most: int = 1000,
        by_language: bool = False,
    ) -> None:
        self.name = name
        self._seconds = seconds
        self.most = most
        self.by_language = by_language
        self._kept: dict[Hashable, tuple[float, object]] = {}
        MEMOS.append(self)

    def __repr__(self) -> str:
        return f"<Memo {self.name}>"

    @property
    def seconds(self) -> float | None:
        return self._seconds() if callable(self._seconds) else self._seconds

    def _key(self, key: Hashable) -> Hashable:
        return (translation.get_language(), key) if self.by_language else key

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """load()'s value for key, as this process got it within the memo's lifetime."""
        key = self._key(key)
        now = time.monotonic()
        kept = self._kept.get(key)
        seconds = self.seconds
        if kept is not None and (seconds is None or now - kept[0] < seconds):
            return kept[1]
        value = load()
        if len(self._kept) >= self.most:
            self._kept.clear()
        self._kept[key] = (now, value)
        return value

    def fresh(self, key: Hashable) -> bool:
        """Whether key was kept within the memo's lifetime."""
        kept = self._kept.get(self._key(key))
        seconds = self.seconds
        return kept is not None and (seconds is None or time.monotonic() - kept[0] < seconds)

    def keep(self, key: Hashable, value: object = True) -> None:
        if len(self._kept) >= self.most:
            self._kept.clear()
        self._kept[self._key(key)] = (time.monotonic(), value)

    def forget(self, key: Hashable | None = None) -> None:
        """Forget key's value, or everything."""
        if key is None:
            self._kept.clear()
        else:
            self._kept.pop(self._key(key), None)


def forget_all() -> None:
    for memo in MEMOS:
        memo.forget()


# What a viral petition's page views and sign POSTs read: a petition as public, by slug, and
# its page's bytes, for PETITION_MEMO_SECONDS (1 s by default).
PETITIONS = Memo("public petitions by slug", seconds=lambda: settings.PETITION_MEMO_SECONDS)
PAGES = Memo(
    "petition pages", seconds=lambda: settings.PETITION_MEMO_SECONDS, most=100, by_language=True
)
# The allow and block lists and the rate limits (superusers change them): a change holds
# everywhere within 5 s.
SIGNING_RULES = Memo("signing rules", seconds=5, most=1)
SIGNING_LIMITS = Memo("signing limits", seconds=5, most=1)
# That a run of confirmation emails is on its way (petitions.mail.confirmations).
CONFIRMATIONS_QUEUED = Memo("a run of confirmation emails queued", seconds=0.1, most=1)
# For the life of the process: what does not change while it runs.
CLIENT_ADDRESSES = Memo("client addresses parsed", seconds=None, most=1024)
PROXIES_WARNED_OF = Memo("untrusted proxies warned of in the log", seconds=None, most=100)
WORLD_MAP = Memo("world map outlines", seconds=None, most=1)
COUNTRY_CHOICES = Memo("the sign form's countries", seconds=None, most=100, by_language=True)
COUNTRY_NAMES = Memo("country names", seconds=None, most=1000, by_language=True)
DATES = Memo("dates as documents print them", seconds=None, most=4096, by_language=True)
