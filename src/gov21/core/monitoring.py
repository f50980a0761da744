"""Where a node's processes keep their Prometheus counts, so that any one of them can report the
whole node (``prometheus_client``'s multiprocess mode).

A launcher (``gov21 up``, ``gov21 exchange node serve``) calls :func:`multiprocess_prepare` before
it starts its processes: ``DATA_DIR/metrics`` is emptied, so counts start at zero with the node and
no file of an earlier run's processes is summed, and is named in the environment the processes
inherit. A process that no launcher started (a test, a one-off command) gets a private directory
from :func:`multiprocess_ensure`, removed when it exits.

The kernel counts one thing of its own here: requests refused past capacity (``gov21_refused_total``
by gate, :func:`refusal_count`), which the exchange's ``/metrics`` reports with every other count.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Final

from django.conf import settings

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path:
    return Path(settings.DATA_DIR) / "metrics"


def multiprocess_prepare() -> dict[str, str]:
    """Empty the node's metrics directory; the environment the processes about to start need.
    Only a launcher calls this, while none of the processes it starts is running yet."""
    folder = multiprocess_dir()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)
    return {MULTIPROC_ENV: str(folder)}


def multiprocess_ensure() -> str:
    """The directory this process counts in: its launcher's, or a private one."""
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="gov21-metrics-")
        atexit.register(shutil.rmtree, folder, True)
        os.environ[MULTIPROC_ENV] = folder
    return folder


_refusals: list[Any] = []
_refusals_lock = threading.Lock()


def _refusal_counter() -> Any:
    if _refusals:
        return _refusals[0]
    with _refusals_lock:
        if not _refusals:
            multiprocess_ensure()
            from prometheus_client import Counter, values

            # As in the exchange's metrics: the value store is picked again once the directory is known.
            values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
            _refusals.append(
                Counter(
                    "gov21_refused",
                    "Requests answered 503 with Retry-After because a gate was full, by gate.",
                    ("gate",),
                    registry=None,
                )
            )
        return _refusals[0]


def refusal_count(gate: str) -> None:
    """One request refused at ``gate`` (``requests``, ``passwords``): counted for the whole node."""
    _refusal_counter().labels(gate).inc()
