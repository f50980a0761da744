"""A long, steady load on the whole platform as ``gov21 up`` runs it: no error, flat memory, and
every log intact afterwards.

    .venv/bin/python bench/soak.py --users 50 --think 1,3 --minutes 60

Prepares a scratch data directory as ``bench/portal_load.py`` does (a demo nation, citizens with
an account, a password, an authenticator app and a driving licence), then starts ``gov21 up`` on
127.0.0.1: the web server with its workers and every background process (task worker, event
delivery, notifications), exactly as an operator runs it. ``--users`` citizens (bench/portal_locust.py's
``Citizen``: find the renewal, sign in with password and code, renew) act every ``--think``
seconds for ``--minutes``. Choose ``--users`` at about half of the capacity ``portal_load.py
--surge`` found.

Reported: requests, failures of any kind (the target is 0; a 503 with ``Retry-After`` is counted
apart), p50/p95/p99 per 10-minute slice, renewals completed, and the resident memory (RSS) of every
process of ``gov21 up`` at the start of the load, every ``--sample-minutes``, and at the end. Then
``gov21 exchange log verify`` checks every log (the exchange's message and data-use logs and the
registry's access log), link by link and head by head. Bounded in time, loopback only; the server
is stopped and the scratch directory removed at the end (unless ``--data-dir`` was given).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from portal_load import (
    BIN,
    browser_sign_in,
    citizens_prepare,
    django_setup,
    free_port,
    locust_run,
    nation_prepare,
    percentile,
    server_env,
    stop_on_sigterm,
    summarise,
    wait_port,
)

SLICE_S = 600.0


def process_table(root: psutil.Process) -> dict[str, float]:
    """RSS in MiB of ``root`` and every process under it, by a readable name."""
    table: dict[str, float] = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            args = proc.cmdline()
            rss = proc.memory_info().rss / 2**20
        except psutil.Error:
            continue
        name = " ".join(a.rsplit("/", 1)[-1] for a in args[:4])[:60]
        label = f"{proc.pid} {name}"
        table[label] = round(rss, 1)
    return table


class MemorySampler:
    def __init__(self, root: psutil.Process, every_s: float) -> None:
        self.root = root
        self.every_s = every_s
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.samples.append((time.time(), process_table(self.root)))
            if self.stop.wait(self.every_s):
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.samples.append((time.time(), process_table(self.root)))


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--think", default="1,3")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sample-minutes", type=float, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-soak-")) if own_dir else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = soak(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    report(args, result)


def soak(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    nation_prepare(data_dir, base_url, args.people)
    django_setup(data_dir, base_url)
    citizens = citizens_prepare(args.citizens)
    citizens_file = data_dir / "bench-citizens.json"
    env = server_env(data_dir, base_url)
    log = (data_dir / "up.log").open("wb")
    up = subprocess.Popen(
        [str(BIN / "gov21"), "up", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_port(port, timeout=300)
        browser_sign_in(base_url, citizens[0]).close()
        citizens_file.write_text(json.dumps(citizens), encoding="utf-8")
        memory = MemorySampler(psutil.Process(up.pid), args.sample_minutes * 60)
        memory.start()
        raw = locust_run(
            port,
            user_class="Citizen",
            users=args.users,
            spawn_rate=args.spawn_rate,
            seconds=args.minutes * 60,
            scratch=data_dir,
            env={
                "PORTAL_BENCH_CITIZENS": str(citizens_file),
                "PORTAL_BENCH_THINK": args.think,
                "PORTAL_BENCH_STAGGER": "0",
            },
        )
        memory.close()
    finally:
        up.terminate()
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
        log.close()
    verify = subprocess.run(
        [str(BIN / "gov21"), "exchange", "log", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    opened = raw["window_opened"] or time.time()
    slices = []
    for k in range(max(1, int(args.minutes * 60 // SLICE_S))):
        low = opened + k * SLICE_S
        got = [ms for _n, ms, _f, started, refused in raw["samples"] if not refused and low <= started < low + SLICE_S]
        slices.append(
            {"minute": k * SLICE_S / 60, "count": len(got), **{f"p{q}": percentile(got, q / 100) for q in (50, 95, 99)}}
        )
    return {
        "summary": summarise(raw),
        "slices": slices,
        "memory": memory.samples,
        "verify": {"exit": verify.returncode, "out": verify.stdout[-4000:], "err": verify.stderr[-2000:]},
        "failures_outside": raw["failures_outside_window"],
    }


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    summary = result["summary"]
    overall = summary["overall"]
    print(
        f"\nSoak: {args.users} citizens, think {args.think} s, {args.minutes:.0f} min: {overall['count']:,} requests "
        f"({summary['rps']:.1f}/s), failures {overall['failures']} (outside the window "
        f"{sum(result['failures_outside'].values())}), refused with 503 + Retry-After {overall['refused']}, "
        f"renewals {summary['journeys'].get('completed', 0)}; p50 {overall['p50']:.0f} ms, "
        f"p95 {overall['p95']:.0f} ms, p99 {overall['p99']:.0f} ms"
    )
    for key, count in sorted(summary["failures"].items(), key=lambda kv: -kv[1])[:10]:
        print(f"  failure ×{count}: {key}")
    for piece in result["slices"]:
        print(
            f"  from minute {piece['minute']:>3.0f}: {piece['count']:>6} requests, p50 {piece['p50']:.0f} ms, "
            f"p95 {piece['p95']:.0f} ms, p99 {piece['p99']:.0f} ms"
        )
    samples = result["memory"]
    started = samples[0][0]
    minutes = " ".join(f"{(at - started) / 60:>6.0f}" for at, _table in samples)
    print(f"Resident memory (MiB) of each process, sampled at minute: {minutes}")
    for label in samples[0][1]:
        series = " ".join(f"{table.get(label, float('nan')):>6.1f}" for _at, table in samples)
        print(f"  {label:<60} {series}")
    verify = result["verify"]
    print(f"Logs verified afterwards: exit {verify['exit']}")
    print("  " + verify["out"].strip().replace("\n", "\n  "))
    if verify["exit"]:
        print("  " + verify["err"].strip().replace("\n", "\n  "))


if __name__ == "__main__":
    main()
