"""Where imagery files are kept: a directory (by default ``imagery`` under the data directory) or an
S3-compatible bucket (``GOV21_IMAGERY_STORAGE=s3://bucket/prefix``, reached with the ``GOV21_S3_*``
settings). Files are written once under a name that holds their SHA-256, so a name never points at
other bytes than it did; a reader asks for byte ranges, which both stores answer without reading
the whole file."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from django.conf import settings

CHUNK = 1 << 20
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class StorageError(Exception):
    """A file could not be written or read; the message names the store and the file."""


def key_check(key: str) -> str:
    """``key`` when it is a plain relative name (no ``..``, no leading slash, no odd characters)."""
    if not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise StorageError(f"refusing the file name {key!r}")
    return key


class Storage(Protocol):
    name: str

    def put(self, key: str, source: Path) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (inclusive) of ``key``, in chunks."""
        ...

    def delete(self, key: str) -> None: ...

    def raster_path(self, key: str) -> tuple[str, dict[str, Any]]:
        """The name rasterio opens ``key`` by, and the GDAL options it needs for it."""
        ...


class DirectoryStorage:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)

    def _file(self, key: str) -> Path:
        return self.path / key_check(key)

    def put(self, key: str, source: Path) -> None:
        path = self._file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Copy beside, then rename: a full disk or a crash never leaves half a file under the name.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out, source.open("rb") as given:
                    shutil.copyfileobj(given, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageError(f"{self.name}: cannot write {key}: {error.strerror or error}") from error

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._file(key).stat().st_size
        except OSError as error:
            raise StorageError(f"{self.name}: cannot read {key}: {error.strerror or error}") from error

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        try:
            handle = self._file(key).open("rb")
        except OSError as error:
            raise StorageError(f"{self.name}: cannot read {key}: {error.strerror or error}") from error
        return _chunks(handle, start, end)

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def raster_path(self, key: str) -> tuple[str, dict[str, Any]]:
        return str(self._file(key)), {}


def _chunks(handle: Any, start: int, end: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data


class S3Storage:
    def __init__(self, spec: str) -> None:
        import boto3
        from botocore.config import Config

        rest = spec[len("s3://") :]
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise StorageError(f"{spec}: name a bucket, as in s3://bucket/prefix")
        self.prefix = prefix.strip("/")
        self.name = spec
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.GOV21_S3_ENDPOINT_URL or None,
            region_name=settings.GOV21_S3_REGION,
            aws_access_key_id=settings.GOV21_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.GOV21_S3_SECRET_ACCESS_KEY or None,
            config=Config(retries={"max_attempts": 6, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        )

    def _key(self, key: str) -> str:
        key_check(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: Path) -> None:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(source), self.bucket, self._key(key))
        except (Boto3Error, BotoCoreError, ClientError, OSError) as error:
            raise StorageError(f"{self.name}: cannot write {key}: {error}") from error

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = dict(self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"{self.name}: cannot check {key}: {error}") from error
        except BotoCoreError as error:
            raise StorageError(f"{self.name}: cannot check {key}: {error}") from error
        return head

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageError(f"{self.name}: {key} is missing")
        return int(head["ContentLength"])

    def read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}")["Body"]
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"{self.name}: cannot read {key}: {error}") from error
        return _stream(body)

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"{self.name}: cannot delete {key}: {error}") from error

    def raster_path(self, key: str) -> tuple[str, dict[str, Any]]:
        from rasterio.session import AWSSession

        endpoint = urlparse(settings.GOV21_S3_ENDPOINT_URL) if settings.GOV21_S3_ENDPOINT_URL else None
        # rasterio takes S3 credentials only through a session (never as GDAL options).
        session = AWSSession(
            aws_access_key_id=settings.GOV21_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.GOV21_S3_SECRET_ACCESS_KEY or None,
            region_name=settings.GOV21_S3_REGION,
            endpoint_url=endpoint.netloc if endpoint is not None else None,
        )
        options: dict[str, Any] = {"session": session, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
        if endpoint is not None:
            options["AWS_HTTPS"] = "YES" if endpoint.scheme == "https" else "NO"
            # A bucket behind a plain endpoint (MinIO, Ceph) is addressed by path, not by host name.
            options["AWS_VIRTUAL_HOSTING"] = "FALSE"
        return f"/vsis3/{self.bucket}/{self._key(key)}", options


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def storage() -> Storage:
    """The imagery storage this deployment is configured with (``GOV21_IMAGERY_STORAGE``)."""
    spec = str(settings.GOV21_IMAGERY_STORAGE)
    if spec.startswith("s3://"):
        return S3Storage(spec)
    return DirectoryStorage(Path(spec))


@contextmanager
def raster_open(key: str) -> Iterator[Any]:
    """``key`` opened with rasterio, from whichever store holds it."""
    import rasterio

    path, options = storage().raster_path(key)
    with rasterio.Env(**options), rasterio.open(path) as dataset:
        yield dataset
