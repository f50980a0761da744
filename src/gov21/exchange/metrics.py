"""Operational monitoring: per service counts, errors and latency in the Prometheus text format.

Counters live in each worker process and are exported with a ``pid`` label; Prometheus sums them.
They restart at zero with the process, which Prometheus' ``rate()`` handles."""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from collections import defaultdict
from typing import Final

BUCKETS_MS: Final = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0)

_lock = threading.Lock()
_requests: dict[tuple[str, str], int] = defaultdict(int)
_errors: dict[tuple[str, str], int] = defaultdict(int)
_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS_MS) + 1))
_sums: dict[str, float] = defaultdict(float)


def observe(service: str, status: int, error: str, duration_ms: float) -> None:
    with _lock:
        _requests[(service, str(status))] += 1
        if error:
            _errors[(service, error)] += 1
        _buckets[service][bisect_left(BUCKETS_MS, duration_ms)] += 1
        _sums[service] += duration_ms


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render() -> str:
    pid = os.getpid()
    lines = [
        "# HELP gov21_exchange_requests_total Messages handled by this gateway, by service and HTTP status.",
        "# TYPE gov21_exchange_requests_total counter",
    ]
    with _lock:
        for (service, status), n in sorted(_requests.items()):
            lines.append(
                f'gov21_exchange_requests_total{{service="{_label(service)}",status="{status}",pid="{pid}"}} {n}'
            )
        lines += [
            "# HELP gov21_exchange_errors_total X-Road errors raised by the exchange, by type.",
            "# TYPE gov21_exchange_errors_total counter",
        ]
        for (service, error), n in sorted(_errors.items()):
            lines.append(
                f'gov21_exchange_errors_total{{service="{_label(service)}",type="{_label(error)}",pid="{pid}"}} {n}'
            )
        lines += [
            "# HELP gov21_exchange_duration_ms Time from receiving a message to releasing its response.",
            "# TYPE gov21_exchange_duration_ms histogram",
        ]
        for service, counts in sorted(_buckets.items()):
            cumulative = 0
            label = f'service="{_label(service)}",pid="{pid}"'
            for bound, count in zip((*BUCKETS_MS, float("inf")), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f'gov21_exchange_duration_ms_bucket{{{label},le="{le}"}} {cumulative}')
            lines.append(f"gov21_exchange_duration_ms_sum{{{label}}} {_sums[service]:.3f}")
            lines.append(f"gov21_exchange_duration_ms_count{{{label}}} {cumulative}")
    return "\n".join(lines) + "\n"
