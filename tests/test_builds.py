"""Builds that stay the same: the lock files, and the presentation document's bytes.

The lock files (requirements/*.txt, written by `make lock`) must pin, with hashes, everything
pyproject.toml declares, or an install from them would lack a package or resolve one anew. The
document's SHA-256 is published as its fingerprint, so the same data must give the same bytes
on every machine that installs from the lock: a change of fpdf2, of the fonts or of what shapes
and instances them shows up here first, as a changed fingerprint (docs/architecture.md, "Pinned
for the same bytes").
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import zlib
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from accounts.models import Organisation
from campaigns.models import Campaign
from petitions.documents.pdf import presentation_pdf
from petitions.models import Demand, Petition, Presentation, Signature
from tests.conftest import make_petition, make_signature

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


# The presentation document's fingerprint ----------------------------------------------------

# The SHA-256 of the presentation document built below. It changes when the document's bytes do:
# a change in petitions/documents/pdf.py or fonts.py, or an upgrade of what pyproject.toml
# pins for them (fpdf2, the font packages, uharfbuzz, fonttools; django-countries names the
# countries). That changes the fingerprint of every document built afterwards, so it is done
# deliberately, never by a routine `make lock`: look at the new document (pdftoppm, pdftotext),
# then write its SHA-256 here and the versions below, in the same commit as the upgrade or the
# change, saying why. docs/architecture.md, "Pinned for the same bytes", says what else to check.
FINGERPRINT = "14b05a454d8a455cd70fc6b66270a84b14e9403a3e8d2a88eef9f701079d9445"

# What the fingerprint was taken with: shown beside a mismatch, to say what changed.
FINGERPRINTED_WITH = {
    "fpdf2": "2.8.9",
    "fonttools": "4.68.0",
    "uharfbuzz": "0.57.0",
    "fontpkg-noto-sans": "2.15",
    "justmytype-intl-rtl": "0.1.0",
    "justmytype-intl-cjk": "0.1.0",
    "django-countries": "9.1.0",
    "zlib": "1.2.13",
}

# One signer in each script the fonts cover: every font (and the shaping of Arabic and Hebrew)
# goes into the document.
SIGNERS = [
    ("Zoë Müller", "DE", "Köln"),
    ("François Pérez", "FR", "Besançon"),
    ("Γιώργος Παπαδόπουλος", "GR", "Θεσσαλονίκη"),
    ("Иван Петров", "RU", "Санкт-Петербург"),
    ("김민준", "KR", "서울"),
    ("王小明", "CN", "北京"),
    ("山田 ゆき", "JP", "東京"),
    ("やまだ はなこ", "JP", "おおさか"),
    ("Nguyễn Thị Lan", "VN", "Hà Nội"),
    ("محمد الأحمد", "EG", "القاهرة"),
    ("דוד לוי", "IL", "ירושלים"),
]
OPENED = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CLOSED = datetime(2025, 3, 31, 23, 0, tzinfo=UTC)
FIRST_CONFIRMED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SEAL = "5afe9a55a6e0f1c3d2b4a6978e1d0c3b"


def _versions() -> dict[str, str]:
    found = {}
    for name in FINGERPRINTED_WITH:
        if name == "zlib":
            found[name] = zlib.ZLIB_RUNTIME_VERSION
        else:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[name] = "not installed"
    return found


def _fixed_presentation() -> Presentation:
    """A presented petition in which nothing depends on when or where the test runs."""
    organisation = Organisation.objects.create(name="Release International", slug="release")
    campaign = Campaign.objects.create(
        organisation=organisation,
        title_en="Run for your Life",
        slug="run-for-your-life",
        status=Campaign.Status.LIVE,
    )
    petition = make_petition(
        campaign,
        "safe-passage",
        title_en="Grant refugees safe passage",
        target_en="The Government of the People's Republic of China",
        statement_en="Grant North Korean refugees safe passage.",
        goal=100,
        status=Petition.Status.OPEN,
        opens_at=OPENED,
        closes_at=CLOSED,
    )
    for position, text in enumerate(
        ["Grant them refugee status.", "Give them safe passage.", "Stop forcible repatriation."],
        start=1,
    ):
        Demand.objects.create(petition=petition, position=position, text_en=text)
    for index, (name, country, city) in enumerate(SIGNERS):
        make_signature(
            petition,
            f"signer{index}@example.org",
            name=name,
            country=country,
            city=city,
            status=Signature.Status.CONFIRMED,
            verified_at=FIRST_CONFIRMED + timedelta(minutes=index),
        )
    make_signature(petition, "pending@example.org", name="Pending Person")  # not listed
    return Presentation.objects.create(
        petition=petition,
        presented_on=date(2025, 4, 15),
        place="the Chinese Embassy, London",
        recipient="Ambassador Zheng Zeguang",
        presented_by="Andy Dipper",
        online_count=len(SIGNERS),
        paper_count=1250,
        total_count=len(SIGNERS) + 1250,
        seal=SEAL,
    )


def test_a_font_instance_carries_the_source_fonts_time_not_its_build_time(settings, tmp_path):
    """fpdf2 embeds each font's head table: an instance stamped with the time it was built would
    make every worker's font cache give the same document other bytes."""
    from fontTools.ttLib import TTFont

    from petitions.documents import fonts

    settings.FONT_CACHE_DIR = tmp_path
    hebrew = next(source for source in fonts.SOURCES if source.family == "NotoSansHebrew")
    built = tmp_path / "hebrew.ttf"
    fonts._build_instance(hebrew, 400, built)  # the smallest font: a second

    source_time = TTFont(fonts._source_file(hebrew), lazy=True)["head"].modified
    assert TTFont(built, lazy=True)["head"].modified == source_time


@pytest.mark.django_db
def test_the_presentation_document_has_the_fingerprint_of_the_pinned_fpdf2_and_fonts(
    tmp_path,
):
    presentation = _fixed_presentation()
    target = tmp_path / "presentation.pdf"

    listed, digest = presentation_pdf(presentation.petition, target, presentation)

    assert listed == len(SIGNERS)
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    changed = {
        name: f"{FINGERPRINTED_WITH[name]} -> {version}"
        for name, version in _versions().items()
        if version != FINGERPRINTED_WITH[name]
    }
    assert digest == FINGERPRINT, (
        f"The presentation document's bytes changed (SHA-256 {digest}). Changed since the "
        f"fingerprint was taken: {changed or 'none of the pinned packages'}. If that is a "
        "deliberate upgrade or change, read the comment above FINGERPRINT."
    )
