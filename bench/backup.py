"""Backup, restore and drill of a seeded SQLite node: the continuity benchmark.

    .venv/bin/python bench/backup.py --data-dir /work/benchdata/sqlite1m [--drills 3] [--rpo-seconds 240]
    .venv/bin/python bench/backup.py --people 200000          # seeds a fresh node in a temporary folder

With ``--data-dir`` the node there is used as it is (it grows by the registrations the benchmark
makes); without it a fresh node is seeded. Measures, against a directory target in a temporary folder:

1. a full backup (every chunk sent);
2. an incremental backup after exactly ``--registrations`` births registered through the registry's
   services (bytes sent, showing chunk reuse);
3. a full restore with every check (chunks, manifest signature, file hashes, SQLite integrity check,
   row counts, hash chains, certificates);
4. ``--drills`` restore drills: restore, migrate, start gunicorn, smoke checks; RTO is the time from
   the start of the restore to the restored node serving;
5. RPO under the schedule: ``gov21 backup --every --interval`` runs while births are registered
   without pause; every second the age of the newest data in the newest complete backup is sampled
   (what a disaster at that second would lose).

Prints one table. Everything it makes outside ``--data-dir`` is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "GOV21_DATA_DIR": str(data_dir)}
    env.pop("GOV21_DATABASE_URL", None)
    return env


def _gov21(data_dir: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "gov21.cli", *args],
        env=_env(data_dir),
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    ).stdout


def _register(data_dir: Path, *, count: int = 0, seconds: float = 600, slot: int = 0) -> str:
    args = [sys.executable, str(HERE / "registrations.py"), "--seconds", str(seconds), "--processes", "1"]
    args += ["--runs", "1", "--first-slot", str(slot)]
    if count:
        args += ["--count", str(count)]
    out = subprocess.run(args, env=_env(data_dir), check=True, capture_output=True, text=True, timeout=seconds + 600)
    return " ".join(out.stdout.split())


def _newest_snapshot(offsite: Path) -> datetime | None:
    manifests = sorted((offsite / "manifests").glob("*.json"))
    if not manifests:
        return None
    data = json.loads(manifests[-1].read_text())
    return datetime.fromisoformat(data.get("snapshot") or data["created"])


def _rpo(data: Path, offsite: Path, *, interval: int, seconds: float, slot: int) -> dict[str, float]:
    """Sample the RPO each second while the scheduler backs up and births are registered."""
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "gov21.cli", "backup", "--to", str(offsite), "--every", str(interval)],
        env=_env(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    writer = subprocess.Popen(
        [
            *(sys.executable, str(HERE / "registrations.py"), "--seconds", str(seconds + interval)),
            *("--processes", "1", "--runs", "1", "--first-slot", str(slot)),
        ],
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    samples: list[float] = []
    try:
        # Wait for the scheduler's first backup under load, then sample for ``seconds``.
        first = _newest_snapshot(offsite)
        deadline = time.monotonic() + 900
        while _newest_snapshot(offsite) == first and time.monotonic() < deadline:
            time.sleep(1)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            newest = _newest_snapshot(offsite)
            if newest is not None:
                samples.append((datetime.now(UTC) - newest).total_seconds())
            time.sleep(1)
    finally:
        os.killpg(scheduler.pid, signal.SIGTERM)
        scheduler.wait(timeout=120)
        writer.wait(timeout=seconds + interval + 600)
    backups = len(list((offsite / "manifests").glob("*.json")))
    return {
        "median": statistics.median(samples),
        "p95": sorted(samples)[int(len(samples) * 0.95) - 1],
        "max": max(samples),
        "samples": len(samples),
        "backups": backups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--drills", type=int, default=3)
    parser.add_argument("--rpo-seconds", type=float, default=240, help="How long to sample the RPO (0: skip).")
    parser.add_argument("--interval", type=int, default=60, help="The backup schedule's interval, seconds.")
    parser.add_argument("--slot", type=int, default=0, help="Mothers' slot for registrations (vary across runs).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gov21-bench-backup-", dir=os.environ.get("GOV21_BENCH_TMP")) as scratch:
        work = Path(scratch)
        data = args.data_dir or work / "node"
        data.mkdir(parents=True, exist_ok=True)
        _gov21(data, "migrate", "--no-input")
        if args.data_dir is None:
            started = time.monotonic()
            _gov21(data, "seed", "--people", str(args.people))
            print(f"seeded {args.people:,} people in {time.monotonic() - started:.0f} s", flush=True)
        size = (data / "gov21.sqlite3").stat().st_size
        print(f"database: {size / 1e9:.2f} GB", flush=True)
        offsite = work / "offsite"
        rows: list[tuple[str, float, str]] = []

        started = time.monotonic()
        full = _gov21(data, "backup", "--to", str(offsite)).strip()
        rows.append(("Full backup (first, to an empty target)", time.monotonic() - started, full))
        print(rows[-1], flush=True)

        reg = _register(data, count=args.registrations, slot=args.slot)
        started = time.monotonic()
        incremental = _gov21(data, "backup", "--to", str(offsite)).strip()
        rows.append(
            (f"Incremental after {args.registrations:,} registrations", time.monotonic() - started, incremental)
        )
        print(rows[-1], flush=True)

        started = time.monotonic()
        restored = _gov21(data, "restore", "--from", str(offsite), "--to", str(work / "restored")).strip()
        rows.append(("Full restore with every check", time.monotonic() - started, restored.replace("\n", " ")))
        print(rows[-1], flush=True)
        subprocess.run(["rm", "-rf", str(work / "restored")], check=True)

        rtos = []
        for _ in range(args.drills):
            drill = _gov21(data, "continuity", "drill", "--from", str(offsite)).strip()
            rto = float(drill.split("RTO ", 1)[1].split(" s", 1)[0])
            rtos.append(rto)
            print(f"drill: {drill}", flush=True)
        if rtos:
            rows.append((f"Drill RTO, median of {len(rtos)} (restore to serving)", statistics.median(rtos), str(rtos)))

        if args.rpo_seconds:
            rpo = _rpo(data, offsite, interval=args.interval, seconds=args.rpo_seconds, slot=args.slot + 1)
            rows.append(
                (f"RPO with a {args.interval} s schedule under registrations (median)", rpo["median"], str(rpo))
            )

        print(f"registrations: {reg}")
        for name, seconds, detail in rows:
            print(f"- {name}: {seconds:.1f} s\n    {detail}")


if __name__ == "__main__":
    main()
