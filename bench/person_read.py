"""The cost of reading one person's record: the registry's selector (``person_view``) and the public
API (``GET /api/v1/registry/persons/{uin}`` with an API token), on a seeded nation.

    GOV21_DATA_DIR=/path/to/seeded/node .venv/bin/python bench/person_read.py --reads 2000 --runs 3

``BENCH_SRC`` points at another checkout's ``src`` to measure it with the same script. Prints one JSON
object: per path, the median over runs of the mean and the 99th percentile in microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def _timed(call: Callable[[str], object], uins: list[str]) -> tuple[float, float]:
    samples = []
    for uin in uins:
        started = time.perf_counter()
        call(uin)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.fmean(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from gov21.identity.services import token_create
    from gov21.registry import selectors
    from gov21.registry.models import Person

    try:
        from gov21.core.principal import Principal
    except ImportError:  # a checkout from before the kernel held the caller
        from gov21.identity.principal import Principal  # type: ignore[no-redef]

    reader = Principal(name="bench.reader", kind="staff", roles=frozenset({"reader"}))
    uins = list(Person.objects.order_by("id").values_list("uin", flat=True)[: args.reads])
    if len(uins) < args.reads:
        raise SystemExit(f"The node holds {len(uins)} people; seed at least {args.reads}.")
    secret = token_create(name="bench", role="reader", lifetime=timedelta(hours=1), created_by="bench").token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_PURPOSE="benchmark")

    def selector(uin: str) -> object:
        return selectors.person_view(uin=uin, actor=reader, purpose="benchmark")

    def api(uin: str) -> object:
        response = client.get(f"/api/v1/registry/persons/{uin}")
        if response.status_code != 200:
            raise SystemExit(f"GET /persons/{uin} answered {response.status_code}: {response.content[:200]!r}")
        return response

    results: dict[str, dict[str, float]] = {}
    for name, call in (("person_view", selector), ("api_get_person", api)):
        _timed(call, uins[:200])  # warm up
        runs = [_timed(call, uins) for _ in range(args.runs)]
        results[name] = {
            "mean_us": round(statistics.median(r[0] for r in runs), 1),
            "p99_us": round(statistics.median(r[1] for r in runs), 1),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
