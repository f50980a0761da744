"""The opinion map recomputed for a large consultation: PCA, k-means with the number of groups
chosen by silhouette, and consensus, on a vote matrix of ``--participants`` × ``--statements``.

    .venv/bin/python bench/opinion_map.py --participants 10000 --statements 500 --runs 5

Participants belong to four hidden camps and vote on ``--seen`` statements each (agree, disagree or
pass, leaning by camp). Prints one JSON line: the median and each run's seconds, the groups found
and their sizes, and the number of consensus statements. The database read that precedes it in the
worker (``selectors.opinion_votes``) is timed by ``--db`` on a fresh data directory.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--seen", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import numpy as np

    from gov21.participation.opinion import opinion_compute

    rng = np.random.default_rng(7)
    camps = rng.integers(0, 4, size=args.participants)
    leaning = rng.choice([-1.0, 1.0], size=(4, args.statements))
    leaning[:, : args.statements // 20] = 1.0  # a few statements every camp agrees with
    votes = np.zeros((args.participants, args.statements))
    for person in range(args.participants):
        seen = rng.choice(args.statements, size=args.seen, replace=False)
        lean = leaning[camps[person], seen]
        draw = rng.random(args.seen)
        votes[person, seen] = np.where(draw < 0.8, lean, np.where(draw < 0.9, -lean, 0.0))
    statements = list(range(args.statements))
    runs, cpu = [], []
    result = None
    for _ in range(args.runs):
        began, cpu_began = time.perf_counter(), time.process_time()
        result = opinion_compute(votes, statements)
        runs.append(time.perf_counter() - began)
        cpu.append(time.process_time() - cpu_began)
    assert result is not None
    print(
        json.dumps(
            {
                "participants": args.participants,
                "statements": args.statements,
                "votes": int(np.count_nonzero(votes)),
                "median_s": round(statistics.median(runs), 3),
                "runs_s": [round(r, 3) for r in runs],
                # CPU seconds of this process (all its threads): what the work costs on a quiet machine.
                "median_cpu_s": round(statistics.median(cpu), 3),
                "groups": [g.size for g in result.groups],
                "consensus": len(result.consensus),
            }
        )
    )


if __name__ == "__main__":
    main()
