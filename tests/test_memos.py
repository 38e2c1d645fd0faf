"""config.memos: what a process keeps in memory, for how long, and in which language."""

from __future__ import annotations

import pytest
from django.utils import translation

from config import memos
from config.memos import Memo


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(memos.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def memo():
    made = Memo("a test's", seconds=5, most=3)
    yield made
    memos.MEMOS.remove(made)


def loads(values: list):
    def load():
        values.append(len(values))
        return values[-1]

    return load


def test_a_value_is_loaded_once_within_its_lifetime_and_again_after(memo, clock):
    loaded: list[int] = []
    assert memo.get("key", loads(loaded)) == 0
    clock[0] += 4.9
    assert memo.get("key", loads(loaded)) == 0
    clock[0] += 0.2
    assert memo.get("key", loads(loaded)) == 1


def test_a_lifetime_read_from_the_settings_follows_them(settings, clock):
    settings.PETITION_MEMO_SECONDS = 0
    loaded: list[int] = []
    memos.PETITIONS.get("slug", loads(loaded))
    memos.PETITIONS.get("slug", loads(loaded))
    assert loaded == [0, 1]


def test_a_memo_of_the_processs_life_never_expires(clock):
    memo = Memo("forever", seconds=None)
    try:
        memo.get("key", lambda: "kept")
        clock[0] += 10**9
        assert memo.get("key", lambda: "loaded again") == "kept"
    finally:
        memos.MEMOS.remove(memo)


def test_rendered_text_is_kept_for_each_language_apart():
    memo = Memo("rendered", seconds=None, by_language=True)
    try:
        with translation.override("en"):
            assert memo.get("page", lambda: "English") == "English"
        with translation.override("ko"):
            assert memo.get("page", lambda: "Korean") == "Korean"
        with translation.override("en"):
            assert memo.get("page", lambda: "loaded again") == "English"
    finally:
        memos.MEMOS.remove(memo)


def test_a_full_memo_starts_again_empty(memo):
    for key in range(3):
        memo.get(key, lambda: "first")
    memo.get(3, lambda: "fourth")
    assert memo.get(0, lambda: "loaded again") == "loaded again"


def test_forget_all_empties_every_memo(memo):
    memo.get("key", lambda: "kept")
    memos.forget_all()
    assert memo.get("key", lambda: "loaded again") == "loaded again"


def test_fresh_and_keep_say_whether_something_happened_lately(memo, clock):
    assert not memo.fresh("run")
    memo.keep("run")
    assert memo.fresh("run")
    clock[0] += 5
    assert not memo.fresh("run")


def test_every_memo_of_rendered_text_is_keyed_by_language():
    rendered = {"PAGES", "COUNTRY_CHOICES", "COUNTRY_NAMES", "DATES"}
    for name in rendered:
        assert getattr(memos, name).by_language, name


def test_no_module_keeps_a_memo_of_its_own():
    """Per-process memos are declared in config/memos.py, with their lifetimes: no lru_cache
    or functools.cache elsewhere in the apps."""
    from tests.test_layers import MODULES

    for module, path in MODULES.items():
        source = path.read_text()
        for needle in ("lru_cache", "functools.cache\n", "@cache\n"):
            assert needle not in source, f"{module} keeps a memo of its own ({needle.strip()})"
