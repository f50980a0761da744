"""Where backups go. A target stores opaque blobs by name; it never sees a key or a plaintext."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings


class TargetError(Exception):
    """A target could not be read or written; the message names the target and the object."""


class Target(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...


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

    def delete(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        base = self._file(prefix)
        if not base.is_dir():
            return []
        return sorted(f"{prefix.rstrip('/')}/{p.name}" for p in base.iterdir() if not p.name.startswith("."))


class S3Target:
    """An S3-compatible bucket (a cloud region abroad, or MinIO/Ceph in a neighbour's data centre)."""

    def __init__(self, spec: str) -> None:
        import boto3
        from botocore.config import Config

        rest = spec[len("s3://") :]
        self.bucket, _, prefix = rest.partition("/")
        if not self.bucket:
            raise TargetError(f"{spec}: name a bucket, as in s3://bucket/prefix")
        self.prefix = prefix.strip("/")
        self.name = spec
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.GOV21_S3_ENDPOINT_URL or None,
            region_name=settings.GOV21_S3_REGION,
            aws_access_key_id=settings.GOV21_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.GOV21_S3_SECRET_ACCESS_KEY or None,
            # Patchy links: retry with backoff before giving up on an object.
            config=Config(retries={"max_attempts": 6, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, key: str, error: Exception) -> TargetError:
        return TargetError(f"{self.name}: cannot {action} {key}: {error}")

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as error:
            raise self._fail("write", key, error) from error

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise TargetError(f"{self.name}: {key} is missing") from error
            raise self._fail("read", key, error) from error
        except BotoCoreError as error:
            raise self._fail("read", key, error) from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail("check", key, error) from error
        except BotoCoreError as error:
            raise self._fail("check", key, error) from error
        return True

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as error:
            raise self._fail("delete", key, error) from error

    def list(self, prefix: str) -> list[str]:
        """The immediate children of ``prefix``, like a directory listing."""
        from botocore.exceptions import BotoCoreError, ClientError

        names: list[str] = []
        folder = prefix.rstrip("/")
        start = self._key(folder + "/")
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    names.append(f"{folder}/{item['Key'][len(start) :]}")
                for common in page.get("CommonPrefixes", []):
                    names.append(f"{folder}/{common['Prefix'][len(start) :].rstrip('/')}")
        except (BotoCoreError, ClientError) as error:
            raise self._fail("list", prefix, error) from error
        return sorted(names)


class PartnerTarget:
    """A partner government's gov21 node, reached through the exchange: its data embassy keeps our
    sealed chunks and signed manifests (:mod:`gov21.continuity.embassy`) and cannot read them.

    Calls go out as this node's ``EXCHANGE/data-embassy`` information system, so they are signed and
    logged at both ends; the partner grants that system the right to its ``store`` service."""

    SERVICE = "GOV/EXCHANGE/data-embassy/store"

    def __init__(self, spec: str) -> None:
        self.instance = spec.removeprefix("partner:").strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.instance):
            raise TargetError(f"{spec}: name the partner by its exchange instance, as in partner:XB")
        self.name = spec
        self.service = f"{self.instance}/{self.SERVICE}"
        self._chunks: set[str] | None = None

    def _call(self, method: str, path: str, body: bytes = b"") -> Any:
        from gov21.exchange.contracts import agency_client, exchange_call

        result = exchange_call(
            client=agency_client("EXCHANGE", "data-embassy"),
            service=self.service,
            method=method,
            path=path,
            body=body,
            content_type="application/octet-stream" if body else "",
            issue="backup in the data embassy",
        )
        if result.error or result.status >= 400:
            try:
                problem = result.json() or {}
            except ValueError:
                problem = {}
            if result.error:
                detail = f"{result.error}: {problem.get('message', '')}"
            else:
                detail = str(problem.get("detail") or f"HTTP {result.status}")
            if result.status == 404 and not result.error:
                raise TargetError(f"{self.name}: {path.removeprefix('/objects/')} is missing")
            raise TargetError(f"{self.name}: {method} {path} failed: {detail}")
        return result

    def put(self, key: str, data: bytes) -> None:
        self._call("PUT", f"/objects/{key}", data)
        if self._chunks is not None and key.startswith("chunks/"):
            self._chunks.add(key.rsplit("/", 1)[1])

    def get(self, key: str) -> bytes:
        return bytes(self._call("GET", f"/objects/{key}").body)

    def exists(self, key: str) -> bool:
        if key.startswith("chunks/"):
            # One call lists every chunk the partner holds; a backup then asks no more.
            if self._chunks is None:
                self._chunks = set(self._call("GET", "/inventory").json()["chunks"])
            return key.rsplit("/", 1)[1] in self._chunks
        try:
            self._call("GET", f"/objects/{key}")
        except TargetError as error:
            if str(error).endswith("is missing"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._call("DELETE", f"/objects/{key}")
        if self._chunks is not None:
            self._chunks.discard(key.rsplit("/", 1)[1])

    def list(self, prefix: str) -> list[str]:
        return [str(name) for name in self._call("GET", f"/list/{prefix.strip('/')}").json()["items"]]


def target_from(spec: str) -> Target:
    if spec.startswith("s3://"):
        return S3Target(spec)
    if spec.startswith("partner:"):
        return PartnerTarget(spec)
    return DirectoryTarget(Path(spec).expanduser())
