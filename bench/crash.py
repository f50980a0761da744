"""SIGKILL of the server during a stream of birth registrations, many times over.

    .venv/bin/python bench/crash.py --trials 100
    .venv/bin/python bench/crash.py --trials 100 --database-url postgresql://postgres@127.0.0.1:5432

Seeds a small nation in a temporary data directory (with ``--database-url``: in a new database of its
own on that PostgreSQL server, dropped at the end), serves it (gunicorn and the background worker, one
process group), and then, per trial: three registrars' systems register births through the API
(declare, validate, register, issue the certificate), the whole server is SIGKILLed at a random moment
0.3–2 s in, restarted on the same data, and audited (see ``tests/continuity/crashing.py``): every
acknowledged step must be there, and no step half-written. Loopback only; stops after ``--trials`` or
``--max-seconds``, whichever comes first. Prints a summary table and, with ``--json``, every trial.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.continuity.crashing import (  # noqa: E402
    Acks,
    Server,
    Trial,
    pg_database_create,
    pg_database_drop,
    trial,
)


def _summary(trials: list[Trial], total: Acks, *, database: str, seconds: float) -> str:
    restarts = [t.restart_s for t in trials]
    kept = trials[-1].kept_unanswered if trials else {}
    rows = [
        ("database", database),
        ("trials", f"{len(trials)} in {seconds:.0f} s"),
        ("registrations acknowledged", f"{len(total.registered)} (and {len(total.certified)} certificates)"),
        ("acknowledged, then lost", str(sum(len(t.lost) for t in trials))),
        ("half-written step sets", str(sum(len(t.half_written) for t in trials))),
        ("trials with a refusal before the kill", str(sum(1 for t in trials if t.refused))),
        ("requests cut off by the kill", str(total.cut_off)),
        ("  of which committed", f"{sum(kept.values())} ({', '.join(f'{k} {v}' for k, v in kept.items())})"),
        ("restart to serving, median", f"{statistics.median(restarts):.2f} s" if restarts else "-"),
        ("restart to serving, max", f"{max(restarts):.2f} s" if restarts else "-"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"| {k:<{width}} | {v} |" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--people", type=int, default=200, help="Size of the seeded nation.")
    parser.add_argument("--clients", type=int, default=3, help="Registrars' systems posting at once.")
    parser.add_argument("--database-url", help="A PostgreSQL server (postgresql://user@host:port); default SQLite.")
    parser.add_argument("--max-seconds", type=float, default=3600, help="Start no trial after this long.")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the kill moments and names.")
    parser.add_argument("--json", action="store_true", help="Print every trial as JSON too.")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    database_url = pg_database_create(args.database_url) if args.database_url else None
    server = Server(database_url=database_url)
    total = Acks()
    trials: list[Trial] = []
    started = time.monotonic()
    try:
        server.prepare(people=args.people)
        server.start()
        while len(trials) < args.trials and time.monotonic() - started < args.max_seconds:
            t = trial(server, total, rng=rng, clients=args.clients)
            trials.append(t)
            flag = (
                ""
                if not (t.lost or t.half_written or t.refused)
                else "  <-- " + "; ".join([*t.lost, *t.half_written, *t.refused])[:400]
            )
            print(
                f"trial {len(trials):3d}: killed after {t.kill_after:.2f} s, {t.acknowledged:3d} acknowledged, "
                f"{t.cut_off} cut off, serving again after {t.restart_s:.2f} s{flag}",
                flush=True,
            )
            if t.log:
                print(f"--- the server's log during trial {len(trials)}:\n{t.log}\n---", flush=True)
    finally:
        server.stop()
        if database_url:
            pg_database_drop(database_url)
        if any(t.lost or t.half_written or t.refused for t in trials):
            print(f"The data directory is kept for a look: {server.root}")
        else:
            shutil.rmtree(server.root, ignore_errors=True)
    database = "PostgreSQL" if database_url else "SQLite"
    print()
    print(_summary(trials, total, database=database, seconds=time.monotonic() - started))
    if args.json:
        print(json.dumps([asdict(t) for t in trials], indent=2))
    if any(t.lost or t.half_written or t.refused for t in trials):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
