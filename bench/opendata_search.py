"""CKAN's ``package_search`` on the data portal: a query and two facets over 10,000 datasets.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/opendata_search.py --datasets 10000 --requests 500

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), writes ``--datasets``
datasets spread over the directory's agencies, with tags and themes, warms up, then sends
``--requests`` searches (``q`` one word, ``facet.field`` organization and tags, ``rows`` 10) through
the whole Django stack in one thread (with ``--forget``, each search computed afresh instead of
answered from the index's memory of it or of its words), and prints one JSON line: requests per second, the median and
95th percentile of one search in milliseconds, and the count the query matched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

WORDS = ("births", "deaths", "roads", "water", "schools", "budget", "licences", "rainfall", "land", "buses")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--forget", action="store_true", help="Forget remembered answers before each search (each one computed)."
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from gov21.exchange.contracts import exchange_bootstrap
    from gov21.opendata.models import Dataset, Group, Tag
    from gov21.opendata.publishing import organization_ensure

    call_command("migrate", verbosity=0)
    exchange_bootstrap()
    organizations = [organization_ensure(code) for code in ("STATS", "CRO", "LTA", "MSD", "LRA", "PWD")]
    tags = [Tag.objects.get_or_create(name=word)[0] for word in WORDS]
    groups = [
        Group.objects.get_or_create(name=f"theme-{i}", defaults={"title": f"Theme {i}", "created": timezone.now()})[0]
        for i in range(5)
    ]
    if Dataset.objects.count() < args.datasets:
        now = timezone.now()
        rows = [
            Dataset(
                name=f"dataset-{i:06d}",
                title=f"{WORDS[i % len(WORDS)].capitalize()} table {i}",
                notes=f"Figures about {WORDS[(i * 7) % len(WORDS)]} and {WORDS[(i * 3) % len(WORDS)]}, number {i}.",
                organization=organizations[i % len(organizations)],
                search_text=f"dataset-{i:06d} {WORDS[i % len(WORDS)]} table {i} figures about "
                f"{WORDS[(i * 7) % len(WORDS)]} and {WORDS[(i * 3) % len(WORDS)]}, number {i}. "
                f"{WORDS[i % len(WORDS)]} {WORDS[(i + 3) % len(WORDS)]}",
                created=now,
                modified=now,
            )
            for i in range(args.datasets)
        ]
        Dataset.objects.bulk_create(rows, batch_size=1000)
        through_tags = Dataset.tags.through
        through_groups = Dataset.groups.through
        ids = list(Dataset.objects.order_by("name").values_list("id", flat=True))
        through_tags.objects.bulk_create(
            [through_tags(dataset_id=d, tag_id=tags[i % len(tags)].pk) for i, d in enumerate(ids)]
            + [through_tags(dataset_id=d, tag_id=tags[(i + 3) % len(tags)].pk) for i, d in enumerate(ids)],
            batch_size=2000,
        )
        through_groups.objects.bulk_create(
            [through_groups(dataset_id=d, group_id=groups[i % len(groups)].pk) for i, d in enumerate(ids)],
            batch_size=2000,
        )

    client = Client()
    url = "/api/3/action/package_search"

    def search(word: str) -> dict[str, object]:
        answer = client.get(url, {"q": word, "facet.field": '["organization","tags"]', "rows": "10"})
        assert answer.status_code == 200, answer.content[:300]
        return answer.json()["result"]  # type: ignore[no-any-return]

    for word in WORDS:
        search(word)
    times = []
    count = 0
    started = time.perf_counter()
    from gov21.opendata import search as search_index

    for n in range(args.requests):
        if args.forget:
            # Neither the answers nor the datasets of query words kept (before 0077: no words kept).
            index = search_index.index_current()
            index.answers.clear()
            getattr(index, "words", {}).clear()
        t0 = time.perf_counter()
        count = int(search(WORDS[n % len(WORDS)])["count"])  # type: ignore[call-overload]
        times.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    times.sort()
    print(
        json.dumps(
            {
                "datasets": Dataset.objects.count(),
                "requests": args.requests,
                "forget": args.forget,
                "rps": round(args.requests / elapsed, 1),
                "median_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                "last_count": count,
                "loadavg": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
