"""Does the platform keep memory from one citizen's journey to the next? The licence-renewal journey
of ``bench/portal_load.py`` (sign-in with password and code, then the renewal) run over and over in
this process through Django's test client, with Python's allocations traced.

    .venv/bin/python bench/memory.py [--people 5000] [--citizens 300] [--warm-up 60] [--journeys 600]

Prepares a scratch data directory and citizens as ``portal_load.py`` does, runs ``--warm-up``
journeys (caches, compiled templates and regular expressions, the first connection), takes a
tracemalloc snapshot, runs ``--journeys`` more with the resident size sampled every
``--sample-every``, and takes a second snapshot. Reported: the resident size at each sample, the
growth of memory that Python allocated and still holds (tracemalloc's total) per journey, and the
places that hold most of that growth, by the line that allocated it.

A web worker whose resident size climbs while tracemalloc's total stays flat is not holding Python
objects: the memory is the allocator's (glibc's arenas, decision 0049). A total that grows with
every journey is a leak, and the places say where. One thread, no server: this measures what the
code keeps, not what a server's threads cost. Loopback only; bounded by ``--journeys``.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil
from portal_load import (
    citizens_prepare,
    django_setup,
    free_port,
    inprocess_client,
    journey_in_process,
    nation_prepare,
    stop_on_sigterm,
)

MIB = 1024 * 1024


class Pages:
    """Requests through a test client, each status checked, nothing recorded (``PageMeter`` keeps
    every SQL statement, which would be the growth measured)."""

    def __init__(self) -> None:
        self.web: Any = None

    def __call__(self, name: str, method: str, path: str, data: dict[str, str] | None = None, expect: int = 0) -> Any:
        response = self.web.get(path) if method == "GET" else self.web.post(path, data or {})
        if expect and response.status_code != expect:
            raise SystemExit(f"{name}: {response.status_code} instead of {expect}: {response.content[:300]!r}")
        return response


def run(args: argparse.Namespace, data_dir: Path) -> None:
    base_url = f"http://127.0.0.1:{free_port()}"
    nation_prepare(data_dir, base_url, args.people)
    django_setup(data_dir, base_url)
    citizens = citizens_prepare(args.citizens)
    pool = itertools.cycle(citizens)
    meter = Pages()
    me = psutil.Process()

    def journeys(count: int) -> None:
        for _ in range(count):
            meter.web = inprocess_client(base_url)
            journey_in_process(meter, next(pool))

    tracemalloc.start(args.frames)
    started = time.monotonic()
    journeys(args.warm_up)
    before = tracemalloc.take_snapshot()
    traced_before = tracemalloc.get_traced_memory()[0]
    samples: list[tuple[int, float, float]] = [(0, me.memory_info().rss / MIB, traced_before / MIB)]
    done = 0
    while done < args.journeys:
        step = min(args.sample_every, args.journeys - done)
        journeys(step)
        done += step
        samples.append((done, me.memory_info().rss / MIB, tracemalloc.get_traced_memory()[0] / MIB))
    after = tracemalloc.take_snapshot()
    elapsed = time.monotonic() - started

    print(
        f"\n{args.journeys} journeys after {args.warm_up} of warm-up, one thread, a nation of {args.people:,}"
        f" ({elapsed:.0f} s)\n"
    )
    print("| journeys | resident MiB | Python allocations held, MiB |")
    print("| --- | --- | --- |")
    for count, rss, traced in samples:
        print(f"| {count} | {rss:.1f} | {traced:.2f} |")
    growth = (samples[-1][2] - samples[0][2]) * MIB
    print(f"\nPython allocations held grew by {growth / 1024:.1f} KiB: {growth / args.journeys:.0f} bytes per journey")
    print(f"\nWhere the growth is held (top {args.top}, by the line that allocated it):")
    for stat in after.compare_to(before, "traceback" if args.frames > 1 else "lineno")[: args.top]:
        if stat.size_diff <= 0:
            continue
        print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
        for frame in reversed(stat.traceback):
            print(f"      {frame.filename}:{frame.lineno}")


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--citizens", type=int, default=300, help="More than 30 s of journeys: codes are single-use.")
    parser.add_argument("--warm-up", type=int, default=60)
    parser.add_argument("--journeys", type=int, default=600)
    parser.add_argument("--sample-every", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1, help="Frames kept per allocation (more: slower).")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-memory-")) if own_dir else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        run(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
