"""The last hour of a participatory budget: many residents voting at once, some changing their
vote, each ballot going through the whole path (sign-in level, open check, eligibility read from the
civil registry through the exchange, pseudonym, knapsack check, the one-person UNIQUE constraint).

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/participation_ballots.py --voters 2000 --threads 8
    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/participation_ballots.py --voters 2000 --record-only

``--opened-first`` has every voter open the ballot page first (the eligibility read through the
exchange, kept under the pseudonym for the process), timed apart, then times the ballots, as when
voters open the page, choose and send: the ballot then finds the answer kept.
``--record-only`` times the ballot alone (pseudonym, budget, constraint) after eligibility, to show
what the exchange read costs. Prints one JSON line: ballots per second, median and 95th percentile
of one ballot in milliseconds, ballots accepted, ballot rows and whether the tally equals them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--changes", type=float, default=0.1, help="share of voters who vote a second time")
    parser.add_argument("--record-only", action="store_true")
    parser.add_argument("--opened-first", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from gov21.core.principal import Principal
    from gov21.exchange.contracts import exchange_bootstrap
    from gov21.identity.contracts import SUBSTANTIAL
    from gov21.participation import services
    from gov21.participation.keys import pseudonym
    from gov21.participation.models import Ballot, Process
    from gov21.participation.selectors import tally
    from gov21.participation.services import ProjectFacts
    from gov21.registry import services as registry
    from gov21.registry.records import BirthFacts

    call_command("migrate", verbosity=0)
    exchange_bootstrap()
    officer = Principal(name="bench", kind="staff", roles=frozenset({"administrator", "registrar"}))
    rng = random.Random(21)
    uins: list[str] = []
    start = date(1950, 1, 1)
    while len(uins) < args.voters:
        births = [
            BirthFacts.model_validate(
                {
                    "given_names": f"Voter {len(uins) + i}",
                    "family_name": "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(4)),
                    "sex": rng.choice("FM"),
                    "birth_date": (start + timedelta(days=rng.randrange(18_000))).isoformat(),
                    "birth_parish": "XA-01",
                }
            )
            for i in range(min(200, args.voters - len(uins)))
        ]
        uins.extend(event.subject.uin for event in registry.register_births(births=births, actor=officer))
    now = timezone.now()
    projects = [ProjectFacts(f"p{i:02d}", f"Project {i}", rng.randrange(5, 40) * 1_000_00) for i in range(20)]
    slug = f"bench-{int(time.time())}"
    process = services.process_create(
        slug=slug,
        kind=Process.Kind.BUDGET,
        title="Bench budget",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        parish="XA-01",
        budget_cents=100_000_00,
        projects=projects,
        actor=officer,
    )
    costs = {p.code: p.cost_cents for p in projects}

    def choice() -> list[str]:
        chosen, spent = [], 0
        for code in rng.sample(list(costs), len(costs)):
            if spent + costs[code] <= process.budget_cents and rng.random() < 0.5:
                chosen.append(code)
                spent += costs[code]
        return chosen or [min(costs, key=costs.__getitem__)]

    work = [(uin, choice()) for uin in uins]
    work += [(uin, choice()) for uin in rng.sample(uins, int(len(uins) * args.changes))]
    lock = threading.Lock()
    times: list[float] = []
    final: dict[str, list[str]] = {}
    errors: list[str] = []
    position = [0]

    opened: list[float] = []

    def opener(chunk: list[str]) -> None:
        try:
            for uin in chunk:
                began = time.perf_counter()
                services.participant_confirm(slug=slug, uin=uin, level=SUBSTANTIAL)
                took = time.perf_counter() - began
                with lock:
                    opened.append(took)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    opening = 0.0
    if args.opened_first:
        chunks = [uins[i :: args.threads] for i in range(args.threads)]
        openers = [threading.Thread(target=opener, args=(chunk,)) for chunk in chunks]
        began = time.perf_counter()
        for thread in openers:
            thread.start()
        for thread in openers:
            thread.join()
        opening = time.perf_counter() - began
        opened.sort()

    def worker() -> None:
        try:
            while True:
                with lock:
                    if position[0] >= len(work):
                        return
                    uin, chosen = work[position[0]]
                    position[0] += 1
                began = time.perf_counter()
                if args.record_only:
                    services.ballot_record(
                        process=process, who=pseudonym(key_id=process.key_id, uin=uin), projects=chosen
                    )
                else:
                    services.ballot_cast(slug=slug, uin=uin, level=SUBSTANTIAL, projects=chosen)
                took = time.perf_counter() - began
                with lock:
                    times.append(took)
                    final[uin] = sorted(chosen)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    counted = tally(process)
    expected: dict[str, int] = dict.fromkeys(costs, 0)
    for chosen in final.values():
        for code in chosen:
            expected[code] += 1
    times.sort()
    print(
        json.dumps(
            {
                "path": "record" if args.record_only else "opened-first" if args.opened_first else "full",
                "threads": args.threads,
                "ballots": len(times),
                "ballots_per_s": round(len(times) / elapsed, 1),
                "median_ms": round(statistics.median(times) * 1000, 2),
                "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 2),
                "voters": len(final),
                "ballot_rows": Ballot.objects.filter(process=process).count(),
                "tally_equals_accepted": counted["ballots"] == len(final) and counted["projects"] == expected,
                "errors": errors[:3],
                **(
                    {
                        "pages_per_s": round(len(opened) / opening, 1),
                        "page_median_ms": round(statistics.median(opened) * 1000, 2),
                        "page_p95_ms": round(opened[int(len(opened) * 0.95) - 1] * 1000, 2),
                    }
                    if opened
                    else {}
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
