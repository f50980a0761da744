"""Whole gov21 deployments as separate processes on loopback, each with its own data directory:
used by the multi-process tests (federation, SIGKILL) and by ``bench/exchange.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from django.db import connection

BIN = Path(sys.executable).parent

# The deployments started here are SQLite nodes whatever the suite's engine (``Deployment.env``
# passes on no GOV21_ setting of the suite, its database's included): a test that only talks to
# them runs the same in both passes, so the SQLite pass runs it and the PostgreSQL pass does not.
sqlite_nodes = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="its deployments are SQLite nodes whatever the suite's engine"
)


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


def wait_answer(port: int, *, tls: bool = False, timeout: float = 120) -> None:
    """Wait until a worker behind ``port`` answers: gunicorn binds the port before its workers
    have booted, and on a busy machine a first request can wait longer than a gateway does."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            # Refused or not (the node interface wants a client certificate), a handshake is an answer.
            with contextlib.suppress(ssl.SSLError, OSError):
                context.wrap_socket(sock).close()
        else:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            sock.recv(1)


@dataclass
class Deployment:
    """One gov21 data directory (a directory and/or a node) and the processes serving it."""

    instance: str
    node_code: str = "main"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gov21-node-")))
    public_port: int = field(default_factory=free_port)
    client_port: int = field(default_factory=free_port)
    node_port: int = field(default_factory=free_port)
    client_tls_port: int = field(default_factory=free_port)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # Settings of this deployment's processes besides those every deployment gets (GOV21_...).
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The platform's public address: portal, APIs, the directory's ``/exchange/conf``."""
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def client_url(self) -> str:
        """The gateway's information-system listener: X-Road REST r1, listClients, metrics."""
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
        env.update(self.settings)
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
        """A full instance: its directory, the demo agencies, and this deployment's node, whose
        agencies' information systems call its client interface over plain HTTP from loopback."""
        self.gov21("migrate", "-v0")
        if people:
            self.gov21("seed", "--people", str(people))
        self.py(
            f"""
            from gov21.exchange import setup
            from gov21.exchange.models import LocalClient, Subsystem
            setup.bootstrap()
            setup.local_node_ensure(owner="{self.instance}/GOV/EXCHANGE", address="{self.node_address}")
            for sub in Subsystem.objects.select_related("member"):
                LocalClient.objects.get_or_create(client_id=str(sub), defaults={{"connection": "http"}})
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

    def serve(self, *, workers: int = 1, threads: int = 4, public: bool = True) -> None:
        """Start the node's listeners, and with ``public`` the platform (where nodes and partners
        fetch the directory's configuration); a node that joined another's directory has no need."""
        public_listen = f"127.0.0.1:{self.public_port}" if public else ""
        code = (
            "from gov21.exchange import serve\n"
            f"serve.run(listen='127.0.0.1:{self.client_port}', node_listen='127.0.0.1:{self.node_port}', "
            f"workers={workers}, threads={threads}, client_tls_listen='127.0.0.1:{self.client_tls_port}', "
            f"public_listen='{public_listen}')\n"
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
        wait_answer(self.client_port)
        wait_answer(self.node_port, tls=True)
        if public:
            wait_port(self.public_port)
            wait_answer(self.public_port)

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
        return httpx.get(
            f"{self.client_url}/r1/{service}{path}", headers={"X-Road-Client": client, **headers}, timeout=30.0
        )


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
        from gov21.exchange.services import node_approve
        node_approve(code="{node.node_code}", by="test")
        """
    )


def trust_each_other(xa: Deployment, xb: Deployment) -> None:
    """Two instances add each other's anchor: federation, as two governments' operators set it up."""
    xa_anchor, xb_anchor = xa.anchor(), xb.anchor()
    for deployment, anchor in ((xa, xb_anchor), (xb, xa_anchor)):
        deployment.py(
            f"""
            import json
            from gov21.exchange.services import trust_add
            trust_add(anchor=json.loads({json.dumps(json.dumps(anchor))}))
            """
        )
