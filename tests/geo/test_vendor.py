"""MapLibre GL JS installed from the npm registry against a locked integrity: only the locked files are
unpacked, a tarball that does not match is refused with nothing written, and a failed download
leaves the platform working (maps drawn on the server)."""

from __future__ import annotations

import base64
import io
import re
import tarfile
from pathlib import Path

import pytest

from gov21.geo import vendor
from gov21.geo.vendor import Lock, VendorError

FILES = {
    "package/dist/maplibre-gl.mjs": "maplibre-gl.mjs",
    "package/dist/maplibre-gl.css": "maplibre-gl.css",
    "package/LICENSE.txt": "LICENSE.txt",
}


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _package(version: str = "1.0.0") -> dict[str, bytes]:
    return {
        "package/package.json": b'{"name": "maplibre-gl"}',
        "package/dist/maplibre-gl.mjs": f"export const version = '{version}';".encode(),
        "package/dist/maplibre-gl.css": b".maplibregl-map{}",
        "package/dist/maplibre-gl.mjs.map": b"{}",
        "package/LICENSE.txt": b"BSD-3-Clause",
        "package/../../escape.txt": b"outside",
    }


def _lock(data: bytes, files: dict[str, str] | None = None) -> Lock:
    return Lock("maplibre-gl", "1.0.0", "https://registry.npmjs.org/x.tgz", vendor.integrity_of(data), files or FILES)


def test_the_committed_lock_pins_maplibre_from_the_npm_registry_with_its_sha512() -> None:
    lock = Lock.read()
    assert lock.name == "maplibre-gl"
    assert lock.tarball == f"https://registry.npmjs.org/maplibre-gl/-/maplibre-gl-{lock.version}.tgz"
    assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", lock.integrity)
    assert len(base64.b64decode(lock.integrity.removeprefix("sha512-"))) == 64
    assert set(lock.files.values()) == {"maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "LICENSE.txt"}


def test_only_the_locked_files_are_unpacked_and_the_install_is_recognised(tmp_path: Path) -> None:
    data = _tarball(_package())
    lock = _lock(data)
    target = tmp_path / "vendor" / "maplibre-gl"
    assert not vendor.installed(lock, target)
    vendor.unpack(lock, data, target)
    assert sorted(path.name for path in target.iterdir()) == [".integrity", *sorted(FILES.values())]
    assert (target / "maplibre-gl.mjs").read_text() == "export const version = '1.0.0';"
    assert not (tmp_path / "escape.txt").exists() and not list(tmp_path.rglob("*.map"))
    assert vendor.installed(lock, target)
    # Another version replaces the first whole.
    newer = _tarball(_package("2.0.0"))
    vendor.unpack(_lock(newer), newer, target)
    assert (target / "maplibre-gl.mjs").read_text() == "export const version = '2.0.0';"
    assert not vendor.installed(lock, target) and vendor.installed(_lock(newer), target)
    assert sorted(path.name for path in target.parent.iterdir()) == ["maplibre-gl"]


def test_a_tarball_that_does_not_match_the_lock_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    data = _tarball(_package())
    lock = _lock(_tarball(_package("tampered")))
    target = tmp_path / "vendor" / "maplibre-gl"
    with pytest.raises(VendorError, match="integrity"):
        vendor.unpack(lock, data, target)
    assert not target.exists()


def test_a_lock_naming_a_missing_member_or_an_unsafe_name_leaves_nothing_behind(tmp_path: Path) -> None:
    data = _tarball(_package())
    target = tmp_path / "vendor" / "maplibre-gl"
    with pytest.raises(VendorError, match=r"has no package/dist/maplibre-gl-worker\.mjs"):
        vendor.unpack(
            _lock(data, {**FILES, "package/dist/maplibre-gl-worker.mjs": "maplibre-gl-worker.mjs"}), data, target
        )
    with pytest.raises(VendorError, match="unsafe"):
        vendor.unpack(_lock(data, {"package/LICENSE.txt": "../LICENSE.txt"}), data, target)
    assert not target.exists() and list((tmp_path / "vendor").iterdir()) == []


def test_a_failed_download_is_a_warning_and_an_install_in_place_is_not_fetched_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _tarball(_package())
    lock = _lock(data)
    target = tmp_path / "maplibre-gl"

    def offline(url: str) -> bytes:
        raise VendorError(f"Could not download {url}: no route to host")

    monkeypatch.setattr(vendor, "download", offline)
    assert vendor.vendor_install(lock, target) is False
    assert "maps are drawn on the server only" in capsys.readouterr().err
    assert not target.exists()
    monkeypatch.setattr(vendor, "download", lambda url: data)
    assert vendor.vendor_install(lock, target) is True and vendor.installed(lock, target)
    monkeypatch.setattr(vendor, "download", offline)
    assert vendor.vendor_install(lock, target) is True  # already there: no download


def test_only_an_https_address_is_downloaded() -> None:
    with pytest.raises(VendorError, match="https"):
        vendor.download("http://registry.npmjs.org/maplibre-gl/-/maplibre-gl-1.0.0.tgz")
