"""Name search latency in-process: ``registry.selectors.person_search`` (the index lookup, the page of
records and the access-log append), one call at a time, on a seeded data directory or database.

    GOV21_DATA_DIR=<seeded node> [GOV21_DATABASE_URL=...] .venv/bin/python bench/name_search.py --queries 300 --runs 3

Queries are drawn as the HTTP benchmark draws them (``bench/run_api.py``): a person's first given name
and family name, as many typed prefixes (the first three letters of each) and as many family names
alone. Reports p50/p95/p99
in milliseconds per run and their medians; the index lookup alone is reported as ``lookup``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from django.db import connection

    from gov21.core.principal import Principal
    from gov21.registry import selectors
    from gov21.registry.models import Person

    rng = random.Random(args.seed)
    top = Person.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = [rng.randint(1, top) for _ in range(args.queries)]
    rows = list(Person.objects.filter(id__in=ids).values_list("given_names", "family_name"))
    names = [f"{given.split()[0]} {family}" for given, family in rows]
    names += [" ".join(word[:3] for word in name.split()) for name in names] + [family for _, family in rows]
    rng.shuffle(names)
    actor = Principal(name="bench.reader", kind="token", roles=frozenset({"reader"}))
    for name in names[:20]:  # warm the caches
        selectors.person_search(name=name, actor=actor, purpose="benchmark")
    runs: list[dict[str, dict[str, float]]] = []
    for _ in range(args.runs):
        whole: list[float] = []
        lookup: list[float] = []
        for name in names:
            started = time.perf_counter()
            selectors.person_search(name=name, actor=actor, purpose="benchmark")
            whole.append((time.perf_counter() - started) * 1000)
            tokens = selectors._tokens(name)
            started = time.perf_counter()
            selectors._matching_ids(tokens, 0, 21)
            lookup.append((time.perf_counter() - started) * 1000)
        runs.append({"search": _quantiles(whole), "lookup": _quantiles(lookup)})
    medians = {
        part: {q: statistics.median(run[part][q] for run in runs) for q in ("p50", "p95", "p99")}
        for part in ("search", "lookup")
    }
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "people": Person.objects.count(),
                "queries": len(names),
                "runs": runs,
                "median": medians,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
