"""Backup and restore of a seeded SQLite node: full backup, incremental backup after 1,000
registrations (bytes sent, showing chunk reuse), full restore, and a drill's RTO to serving.

    .venv/bin/python bench/backup.py --people 200000 [--data-dir DIR]

Seeds a fresh data directory (``gov21 seed``) unless ``--data-dir`` names one that holds a nation, backs it
up to a directory target in a temporary folder, registers births through ``bench/registrations.py``
(real services), backs up again, restores the newest backup into a new directory, and runs a drill
(restore, start gunicorn, smoke checks). Prints one table. Everything it makes outside
``--data-dir`` is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _gov21(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "GOV21_DATA_DIR": str(data_dir)}
    env.pop("GOV21_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "gov21.cli", *args], env=env, check=True, capture_output=True, text=True, timeout=3600
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--registrations-seconds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gov21-bench-backup-") as scratch:
        work = Path(scratch)
        data = args.data_dir or work / "node"
        data.mkdir(parents=True, exist_ok=True)
        _gov21(data, "migrate", "--no-input")
        if args.data_dir is None:
            started = time.monotonic()
            _gov21(data, "seed", "--people", str(args.people))
            print(f"seeded {args.people:,} people in {time.monotonic() - started:.0f} s", flush=True)
        offsite = work / "offsite"
        rows = []
        started = time.monotonic()
        full = _gov21(data, "backup", "--to", str(offsite)).strip()
        rows.append(("Full backup", time.monotonic() - started, full))
        env = {**os.environ, "GOV21_DATA_DIR": str(data)}
        env.pop("GOV21_DATABASE_URL", None)
        reg = (
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "registrations.py"),
                    "--seconds",
                    str(args.registrations_seconds),
                    "--processes",
                    "2",
                    "--runs",
                    "1",
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=600,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        started = time.monotonic()
        incremental = _gov21(data, "backup", "--to", str(offsite)).strip()
        rows.append(("Incremental backup after registrations", time.monotonic() - started, incremental))
        started = time.monotonic()
        restored = _gov21(data, "restore", "--from", str(offsite), "--to", str(work / "restored")).strip()
        rows.append(
            ("Full restore (verify every chunk, integrity check, counts)", time.monotonic() - started, restored)
        )
        drill = _gov21(data, "continuity", "drill", "--from", str(offsite)).strip()
        rows.append(("Drill (restore, start, smoke checks)", 0.0, drill))
        print(f"registrations: {reg}")
        for name, seconds, detail in rows:
            print(f"- {name}: {seconds:.1f} s\n    {detail}")


if __name__ == "__main__":
    main()
