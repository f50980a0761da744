"""Whole gov21 deployments as separate processes on loopback, each with its own data directory:
used by the multi-process tests (federation, SIGKILL) and by ``bench/exchange.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass
class Deployment:
    """One gov21 data directory (a directory and/or a node) and the processes serving it."""

    instance: str
    node_code: str = "main"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gov21-node-")))
    client_port: int = field(default_factory=free_port)
    node_port: int = field(default_factory=free_port)
    client_tls_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def node_address(self) -> str:
        return f"https://127.0.0.1:{self.node_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOV21_")}
        env.update(
            DJANGO_SETTINGS_MODULE="gov21.settings",
            GOV21_DATA_DIR=str(self.root),
            GOV21_INSTANCE=self.instance,
            GOV21_EXCHANGE_NODE=self.node_code,
            GOV21_BASE_URL=self.url,
            GOV21_EXCHANGE_CONF_REFRESH_S="1",
        )
        if os.environ.get("GOV21_BENCH_DATABASE_URL"):
            env["GOV21_DATABASE_URL"] = os.environ["GOV21_BENCH_DATABASE_URL"] + f"_{self.instance.lower()}"
        return env

    def gov21(self, *args: str, timeout: float = 120) -> str:
        out = subprocess.run(
            [str(BIN / "gov21"), *args], env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if out.returncode != 0:
            raise RuntimeError(f"gov21 {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def py(self, code: str, timeout: float = 120) -> str:
        """Run Python with Django set up on this deployment; what it printed."""
        script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
        out = subprocess.run(
            [sys.executable, "-c", script], env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if out.returncode != 0:
            raise RuntimeError(f"snippet failed on {self.instance}/{self.node_code}:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def create_directory(self, *, people: int = 0) -> None:
        """A full instance: its directory, the demo agencies, and this deployment's node."""
        self.gov21("migrate", "-v0")
        if people:
            self.gov21("seed", "--people", str(people))
        self.py(
            f"""
            from gov21.exchange import setup
            setup.bootstrap()
            setup.local_node_ensure(owner="{self.instance}/GOV/EXCHANGE", address="{self.node_address}")
            """
        )

    def anchor(self) -> dict[str, Any]:
        out = self.py(
            f"""
            import json
            from gov21.exchange import directory
            print(json.dumps(directory.anchor_export(directory_url="{self.url}")))
            """
        )
        return dict(json.loads(out.strip().splitlines()[-1]))

    def serve(self, *, workers: int = 1, threads: int = 4) -> None:
        code = (
            "from gov21.exchange import serve\n"
            f"serve.run(listen='127.0.0.1:{self.client_port}', node_listen='127.0.0.1:{self.node_port}', "
            f"workers={workers}, threads={threads}, client_tls_listen='127.0.0.1:{self.client_tls_port}')\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", "import django\ndjango.setup()\n" + code],
            env=self.env(),
            start_new_session=True,
        )
        self.procs.append(proc)
        wait_port(self.client_port)
        wait_port(self.node_port)
        wait_port(self.client_tls_port)
        self._wait_workers()

    def _wait_workers(self, timeout: float = 90) -> None:
        """A bound port is not a worker that answers: on a busy machine gunicorn's workers may still
        be importing Django, and a TLS handshake would wait for them past the gateways' timeouts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/listClients", timeout=2.0)
                # Without a client certificate the node interface refuses, but only once a worker runs.
                httpx.post(f"{self.node_address}/exchange/v1/message", content=b"", verify=False, timeout=2.0)
                return
            except httpx.TimeoutException:
                continue
            except httpx.HTTPError:
                return
        raise TimeoutError(f"the workers of {self.instance}/{self.node_code} did not answer")

    def kill(self) -> None:
        """SIGKILL every process serving this deployment, at once."""
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        self.procs.clear()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs.clear()

    def call(self, service: str, path: str, client: str, **headers: str) -> httpx.Response:
        return httpx.get(f"{self.url}/r1/{service}{path}", headers={"X-Road-Client": client, **headers}, timeout=30.0)


def join(node: Deployment, directory: Deployment, *, owner: str) -> None:
    """``node`` (its own data directory) joins ``directory``'s instance and is approved there."""
    node.gov21("migrate", "-v0")
    anchor = directory.anchor()
    invited = directory.gov21("exchange", "node", "invite", node.node_code, "--owner", owner)
    secret = next(line.split()[-1] for line in invited.splitlines() if line.startswith("Join secret"))
    node.py(
        f"""
        import json
        from gov21.exchange import setup
        setup.join_request(directory_url="{directory.url}", anchor=json.loads({json.dumps(json.dumps(anchor))}),
                           code="{node.node_code}", owner="{owner}", address="{node.node_address}",
                           secret="{secret}")
        """
    )
    directory.py(
        f"""
        from gov21.exchange import directory
        directory.node_approve(code="{node.node_code}", by="test")
        """
    )


def trust_each_other(xa: Deployment, xb: Deployment) -> None:
    """Two instances add each other's anchor: federation, as two governments' operators set it up."""
    xa_anchor, xb_anchor = xa.anchor(), xb.anchor()
    for deployment, anchor in ((xa, xb_anchor), (xb, xa_anchor)):
        deployment.py(
            f"""
            import json
            from gov21.exchange import directory
            directory.trust_add(anchor=json.loads({json.dumps(json.dumps(anchor))}))
            """
        )
