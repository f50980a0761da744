"""``gov21 audit_deps``: every pinned dependency checked against a vendored snapshot of the PyPA
advisory database, with no network.

The lock file (``requirements.lock``) is what production installs; the snapshot
(``docs/security/advisories/<package>/*.yaml``, OSV format) holds the PyPA advisory database's
entries for exactly those packages. A pinned version inside an advisory's affected ranges or
versions fails the command. ``--refresh CHECKOUT`` copies a newer snapshot out of a checkout of
https://github.com/pypa/advisory-database (``docs/security/refresh-advisories.sh`` clones one)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
SNAPSHOT_NOTE = "SNAPSHOT.md"


@dataclass(frozen=True, slots=True)
class Finding:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    summary: str


def pins_read(lock: Path) -> dict[str, str]:
    """The pinned packages of a pip/uv lock file, by canonical name."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _in_range(version: Version, events: list[dict[str, Any]]) -> bool:
    """OSV's evaluation of one ECOSYSTEM range: walk the events in version order; the last one at or
    below the version decides (introduced: affected; fixed: not; last_affected: not, above it)."""
    thresholds: list[tuple[Version, int, bool]] = []
    for event in events:
        for kind, order, affected in (("introduced", 0, True), ("fixed", 1, False), ("last_affected", 2, False)):
            if kind in event:
                bound = Version("0") if str(event[kind]) == "0" else _version(event[kind])
                if bound is not None:
                    thresholds.append((bound, order, affected))
    status = False
    for bound, order, affected in sorted(thresholds):
        reached = version > bound if order == 2 else version >= bound
        if reached:
            status = affected
    return status


def affects(entry: dict[str, Any], package: str, pinned: str) -> bool:
    """Whether one ``affected`` entry of an advisory covers this package at this version."""
    target = entry.get("package") or {}
    if str(target.get("ecosystem", "")) != "PyPI" or canonicalize_name(str(target.get("name", ""))) != package:
        return False
    version = _version(pinned)
    listed = {str(v) for v in entry.get("versions") or []}
    if pinned in listed or (version is not None and version in {_version(v) for v in listed} - {None}):
        return True
    if version is None:
        return False
    return any(
        _in_range(version, list(r.get("events") or []))
        for r in entry.get("ranges") or []
        if r.get("type") in {"ECOSYSTEM", "SEMVER"}
    )


def _fixed_versions(entry: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(e["fixed"]) for r in entry.get("ranges") or [] for e in r.get("events") or [] if "fixed" in e)


def audit(*, lock: Path, advisories: Path) -> list[Finding]:
    findings: list[Finding] = []
    for package, pinned in sorted(pins_read(lock).items()):
        folder = advisories / package
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            advisory = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if advisory.get("withdrawn"):
                continue
            for entry in advisory.get("affected") or []:
                if affects(entry, package, pinned):
                    findings.append(
                        Finding(
                            package=package,
                            version=pinned,
                            advisory=str(advisory.get("id", path.stem)),
                            aliases=tuple(str(a) for a in advisory.get("aliases") or []),
                            fixed=_fixed_versions(entry),
                            summary=str(advisory.get("summary") or advisory.get("details") or "").split("\n")[0][:160],
                        )
                    )
                    break
    return findings


def snapshot_refresh(*, checkout: Path, lock: Path, advisories: Path) -> tuple[int, str]:
    """Replace the snapshot with the advisories for the lock file's packages from a checkout of the
    PyPA advisory database. Returns the number of advisories copied and the snapshot's date."""
    vulns = checkout / "vulns"
    if not vulns.is_dir():
        raise CommandError(f"{checkout} is not a checkout of the PyPA advisory database (no vulns/ folder).")
    pins = pins_read(lock)
    for old in advisories.iterdir() if advisories.is_dir() else []:
        if old.is_dir():
            shutil.rmtree(old)
    advisories.mkdir(parents=True, exist_ok=True)
    copied = 0
    folders: dict[str, Path] = {canonicalize_name(folder.name): folder for folder in vulns.iterdir() if folder.is_dir()}
    for package in sorted(pins):
        if package in folders:
            (advisories / package).mkdir()
            for path in sorted(folders[package].glob("*.yaml")):
                shutil.copyfile(path, advisories / package / path.name)
                copied += 1
    shutil.copyfile(checkout / "LICENSE", advisories / "LICENSE")
    commit, date = _checkout_head(checkout)
    (advisories / SNAPSHOT_NOTE).write_text(
        "# Advisory snapshot\n\n"
        "Entries of the PyPA advisory database (https://github.com/pypa/advisory-database) for the packages\n"
        "pinned in `requirements.lock`, read by `gov21 audit_deps`. Licence: CC-BY 4.0 (`LICENSE`).\n"
        "Refresh with `docs/security/refresh-advisories.sh`.\n\n"
        f"- Database commit: {commit}\n- Database date: {date}\n- Advisories: {copied}\n",
        encoding="utf-8",
    )
    return copied, date


def _checkout_head(checkout: Path) -> tuple[str, str]:
    try:
        out = subprocess.run(  # noqa: S603 - our own git, on a path the operator gave
            ["git", "-C", str(checkout), "log", "-1", "--format=%H %cI"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return out[0], out[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown", datetime.now(UTC).date().isoformat()


class Command(BaseCommand):
    help = "Fail when a pinned dependency has a known vulnerability (offline, from the vendored advisories)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lock", default="requirements.lock", type=Path)
        parser.add_argument("--advisories", default="docs/security/advisories", type=Path)
        parser.add_argument(
            "--refresh",
            metavar="CHECKOUT",
            type=Path,
            help="Copy the advisories of the locked packages from a checkout of pypa/advisory-database first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lock, advisories = options["lock"], options["advisories"]
        if not lock.is_file():
            raise CommandError(f"No lock file at {lock}.")
        if options["refresh"] is not None:
            copied, date = snapshot_refresh(checkout=options["refresh"], lock=lock, advisories=advisories)
            self.stdout.write(f"Copied {copied} advisories (database of {date}) into {advisories}.")
        if not (advisories / SNAPSHOT_NOTE).is_file():
            raise CommandError(f"No advisory snapshot at {advisories}: run docs/security/refresh-advisories.sh.")
        findings = audit(lock=lock, advisories=advisories)
        for f in findings:
            fixed = ", ".join(f.fixed) or "none yet"
            names = " / ".join((f.advisory, *f.aliases))
            self.stdout.write(f"{f.package} {f.version}: {names} (fixed in {fixed}) {f.summary}")
        if findings:
            raise CommandError(f"{len(findings)} known vulnerabilities in pinned dependencies.")
        self.stdout.write(f"No known vulnerability in the {len(pins_read(lock))} pinned packages.")
