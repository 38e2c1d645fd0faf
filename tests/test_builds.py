"""Builds that stay the same: the lock files.

The lock files (requirements/*.txt, written by `make lock`) must pin, with hashes, everything
pyproject.toml declares, or an install from them would lack a package or resolve one anew.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
BASE_LOCK = ROOT / "requirements" / "base.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"


# The lock files ----------------------------------------------------------------------------


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _declared(*groups: str) -> list[Requirement]:
    """pyproject.toml's requirements: "runtime", "build" (build-system.requires) or an extra."""
    project = _pyproject()
    found = []
    for group in groups:
        if group == "runtime":
            found += project["project"]["dependencies"]
        elif group == "build":
            found += project["build-system"]["requires"]
        else:
            found += project["project"]["optional-dependencies"][group]
    return [Requirement(text) for text in found]


def _locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{normalised name: (version pinned with ==, [hashes])} of a pip-compile lock file."""
    text = re.sub(r"\s*\\\n\s*", " ", path.read_text())  # continuation lines joined
    locked = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-") or line.startswith("--hash"), f"{path.name}: {line!r}"
        requirement, *options = line.split()
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", requirement)
        assert match, f"{path.name}: {requirement!r} is not pinned with =="
        hashes = [option.removeprefix("--hash=") for option in options]
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), line
        assert hashes, f"{path.name}: {requirement} has no --hash"
        name = canonicalize_name(match[1])
        assert name not in locked, f"{path.name}: {name} is pinned twice"
        locked[name] = (match[2], hashes)
    return locked


@pytest.mark.parametrize(
    ("lock", "groups"),
    [(BASE_LOCK, ("runtime", "build")), (DEV_LOCK, ("runtime", "build", "dev"))],
    ids=["base", "dev"],
)
def test_the_lock_pins_every_declared_dependency_with_hashes(lock, groups):
    locked = _locked(lock)

    for requirement in _declared(*groups):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is declared in pyproject.toml but not in {lock.name}"
        version, _hashes = locked[name]
        # A lock older than a changed declaration: `make lock` brings it up to date.
        assert requirement.specifier.contains(Version(version), prereleases=True), (
            f"{lock.name} pins {name}=={version}, which pyproject.toml's {requirement} "
            "excludes: run make lock"
        )


def test_the_runtime_lock_is_the_dev_lock_without_the_dev_tools():
    base, dev = _locked(BASE_LOCK), _locked(DEV_LOCK)

    assert set(base) <= set(dev)
    differ = {name: (base[name][0], dev[name][0]) for name in base if base[name] != dev[name]}
    assert differ == {}, f"base.txt and dev.txt differ (run make lock): {differ}"
    dev_only = {canonicalize_name(r.name) for r in _declared("dev")}
    assert not dev_only & set(base), "a dev tool is in the runtime lock"


def test_this_environment_is_the_one_the_dev_lock_describes():
    """make installs exactly the lock (its stamp depends on it): a test run on other versions
    tests something else than what CI and the Dockerfile install."""
    wrong = {}
    for name, (version, _hashes) in _locked(DEV_LOCK).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(version):
            wrong[name] = (version, installed)
    assert wrong == {}, f"(locked, installed) differ: {wrong}; make installs the lock again"
