"""The exchange under load: consumer system → consumer gateway → provider gateway → provider
service, signed and logged at both ends, against the same service called directly and through an
nginx reverse-proxy hop, measured in the same run.

    .venv/bin/python bench/exchange.py --runs 3 --seconds 10 --connections 32

Sets up two deployments in temporary data directories (the instance's directory with the consumer's
node, and the provider's node joined over HTTP), an echo service (gunicorn) and nginx in front of
it, then drives each path with wrk from a separate process. Every load is bounded in time and
targets 127.0.0.1 only. Reports medians over ``--runs``: messages/s and p50/p99 at
``--connections``, and the median latency of one request at a time, from which the latency each
gateway hop adds is derived and compared with nginx's hop. ``--kill-trials N`` then kills the
provider gateway with SIGKILL under load N times and checks that every answered message is in
both logs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.exchange.twonodes import BIN, Deployment, free_port, join, wait_port  # noqa: E402

SERVICE = "XA/GOV/BENCH/echo/hello"
CLIENT = "XA/GOV/BENCH/client"

NGINX_CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream echo {{ server 127.0.0.1:{echo}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def wrk(port: int, path: str, *, client: str = "", seconds: int, connections: int) -> dict[str, Any]:
    env = {**os.environ, "TARGET_PATH": path, "XROAD_CLIENT": client}
    out = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(HERE / "wrk_xroad.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    match = re.search(r"^RESULT (.*)$", out.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return dict(json.loads(match.group(1)))


def setup(
    workers: int, threads: int, extra: list[subprocess.Popen[bytes]], deployments: list[Deployment]
) -> tuple[Deployment, Deployment, int, int]:
    echo_port, nginx_port = free_port(), free_port()
    echo = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "echo_app:application",
            "--chdir",
            str(HERE),
            "--bind",
            f"127.0.0.1:{echo_port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
    )
    extra.append(echo)
    nginx_root = Path(tempfile.mkdtemp(prefix="gov21-nginx-"))
    (nginx_root / "nginx.conf").write_text(NGINX_CONF.format(root=nginx_root, echo=echo_port, port=nginx_port))
    nginx = subprocess.Popen(["nginx", "-c", str(nginx_root / "nginx.conf"), "-g", "daemon off;"])
    extra.append(nginx)

    consumer = Deployment("XA")
    provider = Deployment("XA", node_code="provider")
    deployments += [consumer, provider]
    consumer.create_directory()
    consumer.py(
        """
        from gov21.exchange import setup
        from gov21.exchange.services import member_add, subsystem_add
        member_add(ident="XA/GOV/BENCH", name="Benchmark agency")
        setup.member_cert_ensure(member="XA/GOV/BENCH", node_code="main")
        subsystem_add(ident="XA/GOV/BENCH/client", node="main")
        """
    )
    # wrk calls the client interface over plain HTTP from loopback, as the operator allows it.
    consumer.gov21("exchange", "node", "client", "set", CLIENT, "--connection", "http")
    consumer.serve(workers=workers, threads=threads)
    join(provider, consumer, owner="XA/GOV/BENCH")
    consumer.py(
        f"""
        from gov21.exchange.services import right_grant, service_add, subsystem_add
        subsystem_add(ident="XA/GOV/BENCH/echo", node="provider")
        service_add(ident="{SERVICE}", base_url="", openapi={{"paths": {{"/": {{"get": {{}}}}}}}})
        right_grant(service="{SERVICE}", subject="{CLIENT}", method="GET")
        """
    )
    provider.py(
        f"""
        from gov21.exchange.models import LocalService
        LocalService.objects.create(service_id="{SERVICE}", base_url="http://127.0.0.1:{echo_port}")
        """
    )
    provider.serve(workers=workers, threads=threads, public=False)
    wait_port(echo_port)
    wait_port(nginx_port)
    return consumer, provider, echo_port, nginx_port


def kill_trials(consumer: Deployment, provider: Deployment, trials: int, workers: int, threads: int) -> dict[str, Any]:
    import httpx2 as httpx

    lost = 0
    answered_total = 0
    for _ in range(trials):
        answered: list[str] = []

        def one(i: int, sink: list[str] = answered) -> None:
            mid = f"k-{uuid.uuid4()}"
            try:
                r = httpx.get(
                    f"{consumer.client_url}/r1/{SERVICE}/{i}",
                    headers={"X-Road-Client": CLIENT, "X-Road-Id": mid},
                    timeout=30,
                )
            except httpx.HTTPError:
                return
            if r.status_code == 200:
                sink.append(mid)

        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(one, i) for i in range(400)]
            deadline = time.monotonic() + 30
            while len(answered) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            provider.kill()
            for f in futures:
                f.result()
        logged = set(
            provider.py(
                """
                from gov21.exchange.models import LogEntry
                print("\\n".join(LogEntry.objects.filter(role="provider").values_list("message_id", flat=True)))
                """
            ).split()
        )
        lost += len(set(answered) - logged)
        answered_total += len(answered)
        provider.serve(workers=workers, threads=threads, public=False)
    return {"trials": trials, "answered": answered_total, "answered_but_not_logged": lost}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gateway processes per node (one per core)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--kill-trials", type=int, default=0)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed: apt-get install -y {tool}")

    extra: list[subprocess.Popen[bytes]] = []
    deployments: list[Deployment] = []
    results: dict[str, dict[str, list[float]]] = {}
    try:
        consumer, provider, echo_port, nginx_port = setup(args.workers, args.threads, extra, deployments)
        targets = {
            "direct": (echo_port, "/hello", ""),
            "nginx": (nginx_port, "/hello", ""),
            "exchange": (consumer.client_port, f"/r1/{SERVICE}/x", CLIENT),
        }
        for port, path, client in targets.values():  # warm-up: connections, caches, TLS sessions
            wrk(port, path, client=client, seconds=2, connections=4)
        for _ in range(args.runs):
            for name, (port, path, client) in targets.items():
                single = wrk(port, path, client=client, seconds=args.seconds, connections=1)
                loaded = wrk(port, path, client=client, seconds=args.seconds, connections=args.connections)
                r = results.setdefault(name, {})
                r.setdefault("single_p50_ms", []).append(single["p50_ms"])
                for key in ("rps", "p50_ms", "p99_ms", "non2xx", "errors"):
                    r.setdefault(key, []).append(loaded[key])
        summary = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in results.items()}
        direct = summary["direct"]["single_p50_ms"]
        gateway_hop = (summary["exchange"]["single_p50_ms"] - direct) / 2
        nginx_hop = summary["nginx"]["single_p50_ms"] - direct
        summary["hops"] = {
            "gateway_added_ms_per_hop": round(gateway_hop, 3),
            "nginx_added_ms": round(nginx_hop, 3),
            "ratio_gateway_to_nginx": round(gateway_hop / nginx_hop, 1) if nginx_hop > 0 else None,
        }
        logs = {}
        for name, dep in (("consumer", consumer), ("provider", provider)):
            out = dep.py(
                """
                import json, time
                from gov21.exchange import chain, node
                t = time.perf_counter()
                r = chain.verify(node.this_node().log_chain, node.verify_own)
                print(json.dumps({"entries": r.entries, "heads": r.heads, "ok": r.ok,
                                  "seconds": round(time.perf_counter() - t, 2)}))
                """
            )
            logs[name] = json.loads(out.strip().splitlines()[-1])
        summary["logs"] = logs
        if args.kill_trials:
            summary["sigkill"] = kill_trials(consumer, provider, args.kill_trials, args.workers, args.threads)
        print(json.dumps({"args": vars(args), "runs": results, "median": summary}, indent=2))
    finally:
        for deployment in deployments:
            deployment.stop()
        for proc in extra:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
