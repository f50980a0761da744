"""Where backups go. A target stores opaque blobs by name; it never sees a key or a plaintext."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class TargetError(Exception):
    """A target could not be read or written; the message names the target and the object."""


class Target(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]: ...


class DirectoryTarget:
    """A directory: a mounted disk, a USB drive carried off the island, a network share."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)

    def _file(self, key: str) -> Path:
        if ".." in key.split("/") or key.startswith("/"):
            raise TargetError(f"refusing the object name {key!r}")
        return self.path / key

    def put(self, key: str, data: bytes) -> None:
        path = self._file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside, then rename: a full disk or a crash never leaves a half-written object.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TargetError(f"{self.name}: cannot write {key}: {error.strerror or error}") from error

    def get(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except FileNotFoundError as error:
            raise TargetError(f"{self.name}: {key} is missing") from error
        except OSError as error:
            raise TargetError(f"{self.name}: cannot read {key}: {error.strerror or error}") from error

    def exists(self, key: str) -> bool:
        return self._file(key).exists()

    def list(self, prefix: str) -> list[str]:
        base = self._file(prefix)
        if not base.is_dir():
            return []
        return sorted(f"{prefix.rstrip('/')}/{p.name}" for p in base.iterdir() if not p.name.startswith("."))


def target_from(spec: str) -> Target:
    if spec.startswith(("s3://", "partner:")):
        raise TargetError(f"{spec}: S3 and partner targets are not available yet; use a directory.")
    return DirectoryTarget(Path(spec).expanduser())
