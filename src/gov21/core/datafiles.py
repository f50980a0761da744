"""Directories under the data directory that hold an app's files (documents, not keys or
databases): each app registers its own at start-up, and a node's backup copies every file in them
beside the database and the keys, so a restored node has its documents too."""

from __future__ import annotations

from pathlib import PurePosixPath

_DIRECTORIES: list[str] = []


def backup_directory_register(relative: str) -> None:
    """Back up every file under ``<data dir>/<relative>`` (called from ``ready()``)."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"A backed-up directory is a plain path inside the data directory, not {relative!r}.")
    if str(path) not in _DIRECTORIES:
        _DIRECTORIES.append(str(path))


def backup_directories() -> list[str]:
    return list(_DIRECTORIES)
