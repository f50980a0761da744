"""The residents of a disaster's settlements by name: the civil registry's selector, and the page the
disaster office reads through the exchange, on a seeded nation.

    GOV21_DATA_DIR=/path/to/seeded/node .venv/bin/python bench/residents_named.py --runs 5

Seed the node first (``gov21 seed --people 100000``). Times, ``--runs`` times each, for the most
populous settlement and for every settlement of its parish:

* ``count``: the numbers the office shows by default (``residents_count`` for the parish);
* ``first`` and ``last``: the first and the last page of 50 named (``residents_named``), with each
  person's access-log entry;
* ``exchange``: the first page as the office reads it, through the in-process exchange (signed,
  rights-checked, logged at both ends with one data-use entry per person named).

Prints one JSON object: medians and each run in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def _runs(call: Callable[[], object], runs: int) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(round((time.perf_counter() - started) * 1000, 1))
    return {"median_ms": statistics.median(samples), "runs_ms": samples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db.models import Count

    from gov21.core.principal import Principal
    from gov21.exchange.contracts import agency_client, agency_service, exchange_bootstrap, exchange_json
    from gov21.registry.models import Person, PersonStatus
    from gov21.registry.selectors import residents_count, residents_named

    exchange_bootstrap()
    biggest = (
        Person.objects.filter(status=PersonStatus.ALIVE)
        .exclude(address_settlement="")
        .values("address_parish", "address_settlement")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert biggest is not None, "seed the node first: gov21 seed --people 100000"
    parish, settlement = biggest["address_parish"], biggest["address_settlement"]
    reader = Principal(name="bench", kind="system", roles=frozenset({"reader"}))
    places = [(parish, settlement)]
    first = residents_named(places=places, purpose="welfare_check", reason="bench", page=1, size=50, actor=reader)
    result: dict[str, Any] = {
        "persons": Person.objects.count(),
        "settlement": f"{parish}/{settlement}",
        "named": first.total,
        "pages": first.pages,
    }

    def named(page: int) -> Callable[[], object]:
        return lambda: residents_named(
            places=places, purpose="welfare_check", reason="bench", page=page, size=50, actor=reader
        )

    def through_exchange() -> object:
        return exchange_json(
            client=agency_client("NDMO", "disaster-response"),
            service=agency_service("CRO", "civil-registry", "residents"),
            path="/named",
            query=urlencode({"places": f"{parish}/{settlement}", "purpose": "welfare_check", "size": 50}),
            user_id="bench",
            issue="Welfare check: bench",
        )

    result["count"] = _runs(lambda: residents_count(parishes=[parish]), args.runs)
    result["first"] = _runs(named(1), args.runs)
    result["last"] = _runs(named(first.pages), args.runs)
    result["exchange"] = _runs(through_exchange, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
