"""Monitoring counts over every process of a node: each worker writes, any worker answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SERVICE = "XA/GOV/TAX/returns/status"


def _python(code: str, env: dict[str, str]) -> str:
    script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _node_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOV21_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DJANGO_SETTINGS_MODULE="gov21.settings", GOV21_DATA_DIR=str(data_dir))
    return env


def _launch(env: dict[str, str]) -> dict[str, str]:
    """What a launcher (gov21 up, gov21 exchange node serve) does before starting its processes."""
    code = (
        "import json\nfrom gov21.core.monitoring import multiprocess_prepare\nprint(json.dumps(multiprocess_prepare()))"
    )
    printed = _python(code, env)
    return {**env, **json.loads(printed.strip().splitlines()[-1])}


def _worker_handles(env: dict[str, str], status: int, error: str = "") -> None:
    _python(f"from gov21.exchange import metrics\nmetrics.observe({SERVICE!r}, {status}, {error!r}, 3.0)", env)


def _scrape(env: dict[str, str]) -> str:
    return _python("from gov21.exchange import metrics\nprint(metrics.render())", env)


def test_a_scrape_reaching_one_process_counts_the_messages_of_every_process(tmp_path: Path) -> None:
    env = _launch(_node_env(tmp_path))
    _worker_handles(env, 200)
    _worker_handles(env, 200)
    _worker_handles(env, 500, "Server.ServerProxy.ServiceFailed")

    text = _scrape(env)

    assert f'gov21_exchange_requests_total{{service="{SERVICE}",status="200"}} 2.0' in text
    assert f'gov21_exchange_requests_total{{service="{SERVICE}",status="500"}} 1.0' in text
    assert f'gov21_exchange_errors_total{{service="{SERVICE}",type="Server.ServerProxy.ServiceFailed"}} 1.0' in text
    assert f'gov21_exchange_duration_ms_count{{service="{SERVICE}"}} 3.0' in text
    assert f'gov21_exchange_duration_ms_bucket{{le="5.0",service="{SERVICE}"}} 3.0' in text


def test_a_node_started_again_counts_from_zero(tmp_path: Path) -> None:
    env = _launch(_node_env(tmp_path))
    _worker_handles(env, 200)

    restarted = _launch(_node_env(tmp_path))

    assert SERVICE not in _scrape(restarted)
    assert restarted["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics")
