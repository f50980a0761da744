"""gov21/cli.py run as a new user would, in a subprocess on an empty data directory: a command that
needs gov21's tables says in one line to run ``gov21 migrate`` instead of a database traceback, and
works once that is done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")


def _gov21(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A SQLite node of its own, whatever database the suite itself runs on.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV21_", "DJANGO_"))}
    env.update(PYTHONPATH=SRC, GOV21_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "gov21.cli", *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _last_line(text: str) -> str:
    # Progress bars redraw with carriage returns; what a person reads last is after the final one.
    return text.strip().splitlines()[-1].rsplit("\r", 1)[-1]


def test_commands_on_an_unmigrated_database_say_what_to_run_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    data.mkdir()
    for args in (("seed", "--people", "10"), ("token", "create", "--role", "reader"), ("identity", "prune")):
        result = _gov21(data, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, args
        hint = _last_line(result.stderr)
        assert hint.startswith("gov21: no such table: "), (args, hint)
        assert "migrations not applied yet; run `gov21 migrate` first" in hint, args
        assert str(data / "gov21.sqlite3") in hint

    migrated = _gov21(data, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    token = _gov21(data, "token", "create", "--role", "reader", "--expires", "1h")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().startswith("g21_")
