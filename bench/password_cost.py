"""What one Argon2id password check costs at each set of parameters: CPU time, wall time and the
memory it takes, so the parameters gov21 signs people in with are chosen by their cost.

    .venv/bin/python bench/password_cost.py --repeat 20

Each row runs in a fresh process (so the peak resident memory is that row's own), hashes one
password once to warm up, then verifies it ``--repeat`` times, and prints one JSON line: the median
CPU and wall milliseconds of a check, and the growth of the peak resident set in MiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

# (label, memory KiB, time cost, parallelism): Django 5.2's default; OWASP's Password Storage Cheat
# Sheet, whose five rows are equally strong; RFC 9106's second recommended option.
ROWS = (
    ("django-5.2-default", 102400, 2, 8),
    ("owasp-m47104-t1-p1", 47104, 1, 1),
    ("owasp-m19456-t2-p1", 19456, 2, 1),
    ("owasp-m12288-t3-p1", 12288, 3, 1),
    ("owasp-m9216-t4-p1", 9216, 4, 1),
    ("owasp-m7168-t5-p1", 7168, 5, 1),
    ("rfc9106-m65536-t3-p4", 65536, 3, 4),
)


def one(label: str, memory: int, time_cost: int, parallelism: int, repeat: int) -> dict[str, object]:
    import argon2

    hasher = argon2.PasswordHasher(
        time_cost=time_cost, memory_cost=memory, parallelism=parallelism, type=argon2.Type.ID
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    encoded = hasher.hash("correct horse battery staple")
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        hasher.verify(encoded, "correct horse battery staple")
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "params": label,
        "m_kib": memory,
        "t": time_cost,
        "p": parallelism,
        "cpu_ms": round(statistics.median(cpu), 1),
        "wall_ms": round(statistics.median(wall), 1),
        "rss_growth_mib": round((peak - before) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--row", help="measure one row in this process (used by the parent)")
    args = parser.parse_args()
    if args.row:
        row = next(row for row in ROWS if row[0] == args.row)
        print(json.dumps(one(*row, repeat=args.repeat)))
        return
    for row in ROWS:
        subprocess.run([sys.executable, __file__, "--row", row[0], "--repeat", str(args.repeat)], check=True)


if __name__ == "__main__":
    main()
