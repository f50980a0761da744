"""MapLibre GL JS, brought from the npm registry at install time and served by gov21 itself: no CDN,
tile server or font service is needed when the map is drawn, so an island whose outside links are
down keeps its maps.

``python -m gov21.geo.vendor`` (run by ``make``'s install step) reads the pinned package from
``data/maplibre.lock.json`` beside this file (name, version, tarball address and its npm ``sha512``
integrity), downloads the tarball with the standard library only (a fresh machine has Python and
nothing else), checks the integrity before anything is unpacked, and writes only the files the lock
names (the module, its worker, the style sheet, the licence) into ``vendor/maplibre-gl/`` beside
this file, which git ignores. A failed download is a warning, not a failed install: every map is
also drawn on the server, and the page says nothing is missing. A tarball whose integrity does not
match is refused and nothing is written."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOCK = Path(__file__).resolve().parent / "data" / "maplibre.lock.json"
VENDOR_DIR = Path(__file__).resolve().parent / "vendor" / "maplibre-gl"
# The marker written last: its content is the integrity of the package the directory holds.
MARKER = ".integrity"
TIMEOUT_SECONDS = 60
MAX_TARBALL_BYTES = 64 * 1024 * 1024


class VendorError(Exception):
    """The package could not be installed as the lock says (a download or integrity failure)."""


@dataclass(frozen=True, slots=True)
class Lock:
    name: str
    version: str
    tarball: str
    integrity: str
    files: dict[str, str]

    @classmethod
    def read(cls, path: Path = LOCK) -> Lock:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["name"], data["version"], data["tarball"], data["integrity"], dict(data["files"]))


def integrity_of(data: bytes) -> str:
    """npm's Subresource Integrity string for ``data`` (sha512, base64)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def installed(lock: Lock, target: Path = VENDOR_DIR) -> bool:
    """Whether ``target`` holds the package ``lock`` pins, every file of it."""
    marker = target / MARKER
    if not marker.is_file() or marker.read_text(encoding="ascii").strip() != lock.integrity:
        return False
    return all((target / name).is_file() for name in lock.files.values())


def download(url: str) -> bytes:
    if not url.startswith("https://"):
        raise VendorError(f"The tarball address must be https, not {url!r}.")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - https only, above
            data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    except OSError as error:
        raise VendorError(f"Could not download {url}: {error}") from error
    if len(data) > MAX_TARBALL_BYTES:
        raise VendorError(f"{url} is larger than {MAX_TARBALL_BYTES} bytes.")
    return data


def unpack(lock: Lock, data: bytes, target: Path = VENDOR_DIR) -> None:
    """Check ``data`` against the lock's integrity, then write the files the lock names into ``target``
    (a fresh directory swapped in whole, so a reader never sees half a package)."""
    found = integrity_of(data)
    if found != lock.integrity:
        raise VendorError(
            f"{lock.name} {lock.version}: the tarball's integrity is {found}, not {lock.integrity} as locked;"
            " nothing was installed."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".maplibre-", dir=target.parent))
    try:
        _extract(lock, data, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    (staging / MARKER).write_text(lock.integrity + "\n", encoding="ascii")
    for path in staging.iterdir():
        path.chmod(0o644)
    staging.chmod(0o755)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _extract(lock: Lock, data: bytes, staging: Path) -> None:
    """Only the members the lock names, each written under the lock's plain file name: nothing in the
    archive chooses a path on this machine."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member_name, file_name in lock.files.items():
            if "/" in file_name or file_name.startswith("."):
                raise VendorError(f"The lock names an unsafe file name {file_name!r}.")
            try:
                member = archive.getmember(member_name)
            except KeyError:
                raise VendorError(f"{lock.name} {lock.version} has no {member_name}.") from None
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                raise VendorError(f"{member_name} in {lock.name} {lock.version} is not a file.")
            (staging / file_name).write_bytes(source.read())


def vendor_install(lock: Lock | None = None, target: Path = VENDOR_DIR) -> bool:
    """Install the locked package into ``target`` unless it is there; False (and a message on stderr)
    when it could not be downloaded. An integrity mismatch raises ``VendorError``."""
    lock = lock or Lock.read()
    if installed(lock, target):
        return True
    try:
        data = download(lock.tarball)
    except VendorError as error:
        sys.stderr.write(f"gov21: {error}\ngov21: maps are drawn on the server only until this succeeds.\n")
        return False
    unpack(lock, data, target)
    return True


def main() -> int:
    lock = Lock.read()
    try:
        ok = vendor_install(lock)
    except VendorError as error:
        sys.stderr.write(f"gov21: {error}\n")
        return 1
    if ok:
        sys.stdout.write(f"{lock.name} {lock.version} is in {VENDOR_DIR}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
