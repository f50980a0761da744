"""``gov21 exchange node serve``: a gateway node as its own processes.

The listeners are served by the asynchronous gateway (:mod:`gov21.exchange.agateway`), one process
per worker, each with one event loop serving all of them: the client interface (X-Road REST r1 for
the agency's information systems: plain HTTP, and HTTPS with client certificates if asked for) and
the node interface (signed envelopes from other gateways) behind mutual TLS with the instance's
certificates. If asked for, the platform itself (portal, APIs, the directory's ``/exchange/conf``)
is served by gunicorn on an address of its own. The client interface is the inside of the gateway:
bind it to loopback or the agency's internal network, never where the public reaches it."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from gov21.core.config import child_environment
from gov21.core.http import gunicorn_forwarding
from gov21.core.logs import gunicorn_logging
from gov21.core.monitoring import multiprocess_prepare
from gov21.exchange import agateway, node, tls

logger = logging.getLogger("gov21.exchange")


def commands(
    *, listen: str, node_listen: str, workers: int, threads: int, client_tls_listen: str = "", public_listen: str = ""
) -> list[list[str]]:
    """The processes of a node: ``workers`` processes of the asynchronous gateway, each serving every
    listener of the node on ports they share (:mod:`gov21.exchange.agateway`), and, if asked for,
    the platform under gunicorn."""
    tls.server_files()  # the node's certificate approved, its files written, before anyone listens
    result = [
        agateway.command(
            listen=listen,
            node_listen=node_listen,
            client_tls_listen=client_tls_listen,
            threads=threads,
            python=sys.executable,
        )
        for _ in range(max(1, workers))
    ]
    if public_listen:
        # The platform, for a deployment whose directory lives here but that gov21 up does not
        # serve: nodes and partners fetch the signed configuration from it.
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        logging_args = [*gunicorn_logging(access=False), *gunicorn_forwarding()]
        common = ["--workers", str(workers), "--threads", str(threads), *logging_args, "--graceful-timeout", "5"]
        result.append([gunicorn, "gov21.wsgi:application", "--bind", public_listen, *common])
    return result


def _refresh_tls() -> None:
    """Keep the listener's certificate and trusted CAs equal to the current configuration."""
    from django.db import close_old_connections

    from gov21.exchange.errors import XRoadError

    try:
        tls.server_files()
        tls.clients_bundle()
    except XRoadError:
        pass  # an expired configuration: the gateway refuses traffic anyway
    except Exception:
        # A busy database or an unreachable directory must not take the node down: the listeners
        # keep the files they have, and the next round tries again.
        logger.exception("could not refresh the TLS files")
    finally:
        close_old_connections()


def run(
    *,
    listen: str,
    node_listen: str,
    workers: int,
    threads: int,
    client_tls_listen: str = "",
    public_listen: str = "",
    stop_after: float | None = None,
) -> int:
    env = child_environment(
        DJANGO_SETTINGS_MODULE="gov21.settings",
        GOV21_DATA_DIR=str(settings.DATA_DIR),
        **multiprocess_prepare(),  # the listeners' workers count together, from zero
    )
    env["GOV21_EXCHANGE_NODE"] = node.this_node().code
    cmds = commands(
        listen=listen,
        node_listen=node_listen,
        workers=workers,
        threads=threads,
        client_tls_listen=client_tls_listen,
        public_listen=public_listen,
    )
    procs = [subprocess.Popen(cmd, env=env) for cmd in cmds]  # noqa: S603 - our own gunicorn

    def stop(signum: int, frame: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = time.monotonic()
    refreshed = started
    try:
        while all(p.poll() is None for p in procs):
            if stop_after is not None and time.monotonic() - started > stop_after:
                break
            time.sleep(0.3)
            if time.monotonic() - refreshed > 2:
                refreshed = time.monotonic()
                _refresh_tls()
    finally:
        stop(0, None)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return max((p.returncode or 0) for p in procs)
