"""Operational monitoring: per service counts, errors and latency in the Prometheus text format,
counted over every process of the node.

A node runs several processes (the workers of each listener, the task worker, the deliverer), and
a scrape reaches one of them. Each process writes its counts to memory-mapped files in one
directory (``prometheus_client``'s multiprocess mode; ``core.monitoring`` says which directory and
when it is emptied), and :func:`render` sums every file there, so any worker answers for the node.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

from gov21.core.monitoring import multiprocess_ensure

BUCKETS_MS: Final = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0)


@dataclass(frozen=True)
class _Metrics:
    requests: Any
    errors: Any
    duration: Any


_lock = threading.Lock()
_made: list[_Metrics] = []


def _metrics() -> _Metrics:
    if _made:
        return _made[0]
    with _lock:
        if _made:
            return _made[0]
        multiprocess_ensure()
        from prometheus_client import Counter, Histogram, values

        # prometheus_client picks its value store when first imported; re-picking it here makes the
        # directory count even if a library imported prometheus_client before the variable was set.
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        _made.append(
            _Metrics(
                requests=Counter(
                    "gov21_exchange_requests",
                    "Messages handled by this gateway, by service and HTTP status.",
                    ("service", "status"),
                    registry=None,
                ),
                errors=Counter(
                    "gov21_exchange_errors",
                    "X-Road errors raised by the exchange, by type.",
                    ("service", "type"),
                    registry=None,
                ),
                duration=Histogram(
                    "gov21_exchange_duration_ms",
                    "Time from receiving a message to releasing its response.",
                    ("service",),
                    buckets=BUCKETS_MS,
                    registry=None,
                ),
            )
        )
        return _made[0]


def observe(service: str, status: int, error: str, duration_ms: float) -> None:
    metrics = _metrics()
    metrics.requests.labels(service, str(status)).inc()
    if error:
        metrics.errors.labels(service, error).inc()
    metrics.duration.labels(service).observe(duration_ms)


def render() -> str:
    """Every process's counts, summed: the text a Prometheus scrape receives."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    _metrics()  # the directory is chosen
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry).decode("utf-8")
