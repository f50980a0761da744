"""Source documents: stored under the data directory by their SHA-256, checked on every read, refused
when damaged or missing, and copied by the node's backups and brought back by a restore."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from gov21.continuity.engine import _key_files, backup_run, home_keys, restore_run
from gov21.continuity.targets import DirectoryTarget
from gov21.core.errors import DomainError
from gov21.land.sources import source_read, source_store
from tests.land.helpers import CLERK

DEED = b"%PDF-1.4\n% deed of sale, lot 7\n"


def _stored() -> tuple[str, Path]:
    source = source_store(
        content=DEED, kind="deed", filename="../../deed.pdf", media_type="application/pdf", actor=CLERK
    )
    return source.sha256, Path(settings.DATA_DIR) / "land" / "documents" / source.sha256[:2] / source.sha256


@pytest.mark.django_db
def test_a_document_is_kept_by_its_hash_and_read_back_checked() -> None:
    sha, path = _stored()
    assert sha == hashlib.sha256(DEED).hexdigest() and path.read_bytes() == DEED
    source, content = source_read(sha256=sha)
    assert content == DEED and source.filename == "deed.pdf"
    # The same content again is the same document.
    assert _stored()[0] == sha


@pytest.mark.django_db
def test_a_damaged_or_missing_file_is_refused_never_handed_out() -> None:
    sha, path = _stored()
    path.write_bytes(DEED + b"tampered")
    with pytest.raises(DomainError) as refused:
        source_read(sha256=sha)
    assert refused.value.code == "source_damaged" and refused.value.status == 409
    path.unlink()
    with pytest.raises(DomainError) as refused:
        source_read(sha256=sha)
    assert refused.value.code == "source_missing"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "media_type", "code"),
    [(b"", "application/pdf", "empty_file"), (b"MZ\x90", "application/x-msdownload", "invalid_media_type")],
)
def test_bad_uploads_are_refused(content: bytes, media_type: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        source_store(content=content, kind="deed", filename="x", media_type=media_type, actor=CLERK)
    assert refused.value.code == code


@pytest.mark.django_db
def test_the_documents_are_among_the_files_a_backup_copies() -> None:
    sha, path = _stored()
    files = dict(_key_files(Path(settings.DATA_DIR)))
    assert files[f"land/documents/{sha[:2]}/{sha}"] == path


@pytest.mark.skipif(connection.vendor != "sqlite", reason="restores a SQLite node's directory")
@pytest.mark.django_db(transaction=True)
def test_a_restored_node_has_the_documents(tmp_path: Path) -> None:
    sha, _path = _stored()
    target = DirectoryTarget(tmp_path / "offsite")
    backup_run(target)
    into = tmp_path / "restored"
    restore_run(target, into, keys=home_keys(), check=False)
    assert (into / "land" / "documents" / sha[:2] / sha).read_bytes() == DEED
