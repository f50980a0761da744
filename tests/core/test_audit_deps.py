"""``gov21 audit_deps`` fails on a pinned version that an advisory covers, and only then."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(folder: Path, *advisories: dict[str, object]) -> Path:
    (folder / "SNAPSHOT.md").parent.mkdir(parents=True, exist_ok=True)
    (folder / "SNAPSHOT.md").write_text("# Advisory snapshot\n")
    for advisory in advisories:
        path = folder / "example-pkg" / f"{advisory['id']}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(advisory))
    return folder


def _advisory(ident: str, *, events: list[dict[str, str]], versions: list[str] | None = None) -> dict[str, object]:
    return {
        "id": ident,
        "aliases": [f"CVE-2099-{ident[-4:]}"],
        "details": "Remote code execution through a crafted header.",
        "affected": [
            {
                # The name as the advisory spells it; the lock file spells it differently.
                "package": {"name": "Example_Pkg", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "versions": versions or [],
            }
        ],
    }


def _audit(tmp_path: Path, pinned: str, advisories: Path) -> str:
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"django==5.2.19\n    # via gov21\nexample.pkg=={pinned}\n    # via gov21 (pyproject.toml)\n")
    out = io.StringIO()
    call_command("audit_deps", lock=lock, advisories=advisories, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("pinned", "events", "versions"),
    [
        ("1.4.2", [{"introduced": "1.0"}, {"fixed": "1.5.0"}], None),
        ("0.9", [{"introduced": "0"}, {"last_affected": "0.9"}], None),
        ("2.0.0", [{"introduced": "2.0.0"}], None),  # no fix yet
        ("3.1", [{"introduced": "1.0"}, {"fixed": "1.5.0"}, {"introduced": "3.0"}, {"fixed": "3.2"}], None),
        ("1.1rc1", [], ["1.1rc1"]),
    ],
)
def test_an_affected_pinned_version_fails_the_audit(
    tmp_path: Path, pinned: str, events: list[dict[str, str]], versions: list[str] | None
) -> None:
    advisories = _snapshot(tmp_path / "advisories", _advisory("PYSEC-2099-0001", events=events, versions=versions))
    with pytest.raises(CommandError, match="1 known vulnerabilities"):
        _audit(tmp_path, pinned, advisories)


@pytest.mark.parametrize(
    ("pinned", "events"),
    [
        ("1.5.0", [{"introduced": "1.0"}, {"fixed": "1.5.0"}]),
        ("0.9.1", [{"introduced": "0"}, {"last_affected": "0.9"}]),
        ("0.9", [{"introduced": "1.0"}, {"fixed": "1.5.0"}]),
        ("2.0", [{"introduced": "1.0"}, {"fixed": "1.5.0"}, {"introduced": "3.0"}, {"fixed": "3.2"}]),
    ],
)
def test_a_fixed_or_unaffected_pinned_version_passes(tmp_path: Path, pinned: str, events: list[dict[str, str]]) -> None:
    advisories = _snapshot(tmp_path / "advisories", _advisory("PYSEC-2099-0002", events=events))
    assert "No known vulnerability in the 2 pinned packages" in _audit(tmp_path, pinned, advisories)


def test_the_audit_names_the_advisory_and_the_fix(tmp_path: Path) -> None:
    advisories = _snapshot(
        tmp_path / "advisories", _advisory("PYSEC-2099-0003", events=[{"introduced": "1.0"}, {"fixed": "1.5.0"}])
    )
    out = io.StringIO()
    lock = tmp_path / "requirements.lock"
    lock.write_text("example-pkg==1.2\n")
    with pytest.raises(CommandError):
        call_command("audit_deps", lock=lock, advisories=advisories, stdout=out)
    assert "example-pkg 1.2: PYSEC-2099-0003 / CVE-2099-0003 (fixed in 1.5.0)" in out.getvalue()


def test_refresh_copies_exactly_the_locked_packages_advisories(tmp_path: Path) -> None:
    checkout = tmp_path / "advisory-database"
    (checkout / "vulns").mkdir(parents=True)
    (checkout / "LICENSE").write_text("Attribution 4.0 International\n")
    for package in ("example-pkg", "something-else"):
        (checkout / "vulns" / package).mkdir()
        (checkout / "vulns" / package / "PYSEC-2099-9.yaml").write_text(
            yaml.safe_dump(_advisory("PYSEC-2099-0009", events=[{"introduced": "0"}, {"fixed": "9"}]))
        )
    advisories = tmp_path / "advisories"
    lock = tmp_path / "requirements.lock"
    lock.write_text("example-pkg==10.0\n")
    out = io.StringIO()
    call_command("audit_deps", lock=lock, advisories=advisories, refresh=checkout, stdout=out)
    assert sorted(p.name for p in advisories.iterdir()) == ["LICENSE", "SNAPSHOT.md", "example-pkg"]
    assert "Copied 1 advisories" in out.getvalue() and "No known vulnerability" in out.getvalue()


def test_the_committed_lock_file_has_no_known_vulnerability_in_the_vendored_snapshot() -> None:
    out = io.StringIO()
    call_command(
        "audit_deps", lock=ROOT / "requirements.lock", advisories=ROOT / "docs/security/advisories", stdout=out
    )
    assert "No known vulnerability" in out.getvalue()
    assert "Database date: " in (ROOT / "docs/security/advisories/SNAPSHOT.md").read_text()
