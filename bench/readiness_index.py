"""The uncertainty analysis of the 21st Century Government Index at the size of the world: 193
countries, 40 indicators in the seven pillars, 10,000 Monte Carlo draws over normalisation,
weighting, aggregation and imputation (target ≤ 10 s).

    PYTHONPATH=src .venv/bin/python bench/readiness_index.py --draws 10000 --runs 3

Synthetic data (seeded; 5 % of values missing, so imputation is exercised); no database. Prints one
JSON line: the seconds of each run and their median, and, as a reference measured in the same run,
the seconds of the reference index alone (one choice, no draws).
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

PILLARS = ("citizen-centric", "seamless", "resilient", "open", "participatory", "secure", "inter-connected")


def methodology_text(indicators: int, draws: int) -> str:
    lines = ['version: "bench"', f"draws: {draws}", "seed: 1", "weight_noise: 0.25", "indicators:"]
    for n in range(indicators):
        lines += [f"  - code: i{n}", f"    source: bench.i{n}", f"    pillar: {PILLARS[n % len(PILLARS)]}"]
    lines += ["weights:", "  expert:"]
    share = [1 / len(PILLARS)] * len(PILLARS)
    share[-1] = 1 - sum(share[:-1])
    lines += [f"    {p}: {w!r}" for p, w in zip(PILLARS, share, strict=True)]
    lines += [
        "choices:",
        "  normalisation: {reference: min-max, alternatives: [min-max, z-score, rank]}",
        "  weighting: {reference: equal, alternatives: [equal, expert, pca]}",
        "  aggregation: {reference: arithmetic, alternatives: [arithmetic, geometric]}",
        "  imputation: {reference: mean, alternatives: [mean, median, minimum]}",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--countries", type=int, default=193)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--draws", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from gov21.readiness.index import index_compute, methodology_parse

    rng = np.random.default_rng(2126)
    data = rng.beta(2, 2, size=(args.countries, args.indicators))
    data[rng.uniform(size=data.shape) < 0.05] = np.nan
    codes = tuple(f"C{n:03d}" for n in range(args.countries))
    method = methodology_parse(methodology_text(args.indicators, args.draws))
    reference = methodology_parse(methodology_text(args.indicators, 1))
    start = time.perf_counter()
    index_compute(data, codes, reference)
    one = time.perf_counter() - start
    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = index_compute(data, codes, method)
        runs.append(time.perf_counter() - start)
    widest = max(result.rank_high[c] - result.rank_low[c] for c in codes)
    print(
        json.dumps(
            {
                "countries": args.countries,
                "indicators": args.indicators,
                "draws": args.draws,
                "seconds": [round(r, 3) for r in runs],
                "median_s": round(statistics.median(runs), 3),
                "one_draw_s": round(one, 3),
                "widest_interval": widest,
                "sensitivity": {k: round(v, 3) for k, v in result.sensitivity.items()},
                "load": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
