"""Checks on the test suite as a whole, loaded by tests/conftest.py.

- **Every public API operation is proved over HTTP.** Each request the Django test client makes under
  ``/api/v1/`` is recorded as (method, path template, status). When the whole ``tests/`` directory
  runs, the session fails if an operation in docs/openapi.json never answered a success, or never
  answered a client error as problem+json, to a test outside ``tests/security`` (the authorisation
  matrix and the fuzzer call every route, so counting them would prove nothing about the operation).
  ``GOV21_API_COVERAGE=1`` runs the check on a subset too.
- **Random inputs can be replayed.** One seed drives every random input of a run: the ``rng`` fixture
  (a ``random.Random`` per test, from the seed and the test's id, so the order tests run in does not
  matter) and Hypothesis. It is ``GOV21_TEST_SEED`` when set, otherwise drawn at the start; the report
  header and every failure print it, and the same seed replays the same inputs.
- **No test vanishes unnoticed.** When ``GOV21_SKIPPED_FILE`` names a file, every skipped test and
  every skipped module is written there, one ``node id<TAB>reason`` a line; ``.ci/run`` compares the
  file with tests/skip-allowlist.txt (see tests/skips.py).
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "docs" / "openapi.json"
API_PREFIX = "/api/v1/"
UNCOUNTED_DIR = "tests/security/"
_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")

Call = tuple[str, str, str]  # method, OpenAPI path template, "success" or "problem"


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The (method, path template) of every operation an OpenAPI document lists."""
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def path_template(route: str) -> str:
    """The OpenAPI path template of a Django URL route: ``api/v1/x/<int:id>`` → ``/api/v1/x/{id}``."""
    return "/" + _CONVERTER.sub(r"{\1}", route)


def outcome(status: int, content_type: str) -> str | None:
    """What a response proves: a success, a client error told as problem+json, or nothing."""
    if 200 <= status < 300:
        return "success"
    if 400 <= status < 500 and content_type.startswith("application/problem+json"):
        return "problem"
    return None


def unproved(operations: set[tuple[str, str]], calls: set[Call]) -> list[str]:
    """A line for each operation that lacks a successful call or a problem+json answer."""
    lines = []
    for method, path in sorted(operations, key=lambda op: (op[1], op[0])):
        missing = [kind for kind in ("success", "problem") if (method, path, kind) not in calls]
        if missing:
            lines.append(f"{method} {path}: no HTTP test gets a {' or a '.join(missing)} answer")
    return lines


@dataclass
class ApiCalls:
    """The API calls this process's tests made, and whether the whole suite ran."""

    calls: set[Call] = field(default_factory=set)
    whole_suite: bool = False

    def record(self, request: dict[str, Any], status: int, content_type: str) -> None:
        path = str(request.get("PATH_INFO", ""))
        current = os.environ.get("PYTEST_CURRENT_TEST", "")
        kind = outcome(status, content_type)
        if not path.startswith(API_PREFIX) or current.startswith(UNCOUNTED_DIR) or kind is None:
            return
        from django.urls import Resolver404, resolve

        try:
            route = resolve(path).route
        except Resolver404:
            return
        self.calls.add((str(request.get("REQUEST_METHOD", "GET")), path_template(route), kind))


_api_calls = ApiCalls()
_client_request = Client.request


def _recording_request(self: Client, **request: Any) -> Any:
    response = _client_request(self, **request)
    _api_calls.record(request, response.status_code, response.get("Content-Type", ""))
    return response


def _runs_whole_suite(config: pytest.Config) -> bool:
    if os.environ.get("GOV21_API_COVERAGE") == "1":
        return True
    if config.option.keyword or config.option.markexpr or getattr(config.option, "lf", False):
        return False
    here = config.invocation_params.dir
    args = [(here / str(arg).split("::")[0]).resolve() for arg in config.args]
    return args in ([ROOT / "tests"], [ROOT])


def pytest_configure(config: pytest.Config) -> None:
    _api_calls.whole_suite = _runs_whole_suite(config)
    _seed_choose(config)
    skipped_file = os.environ.get("GOV21_SKIPPED_FILE")
    if skipped_file and not hasattr(config, "workerinput"):
        config.pluginmanager.register(SkipRecorder(skipped_file), "gov21-skip-recorder")
    Client.request = _recording_request  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    Client.request = _client_request  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the calls to the controller
        workeroutput["gov21_api_calls"] = json.dumps(sorted(_api_calls.calls))
        return
    if not _api_calls.whole_suite or exitstatus != pytest.ExitCode.OK:
        return
    missing = unproved(documented_operations(json.loads(OPENAPI.read_text())), _api_calls.calls)
    if missing:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "API operations without an HTTP test", red=True)
            for line in missing:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    calls = getattr(node, "workeroutput", {}).get("gov21_api_calls")
    if calls:
        _api_calls.calls.update(tuple(call) for call in json.loads(calls))


# -------------------------------------------------------------------------------------------------
# Skipped tests


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class SkipRecorder:
    """Appends each skipped test or module, with its reason, to ``path``. Runs where reports are
    gathered: in the only process, or in xdist's controller, which receives every worker's reports."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _write(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = " ".join(_skip_reason(report).split())
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{report.nodeid}\t{reason}\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._write(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._write(report)


# -------------------------------------------------------------------------------------------------
# The seed of random inputs

SEED_VARIABLE = "GOV21_TEST_SEED"
_seed = {"value": 0}


def _seed_choose(config: pytest.Config) -> None:
    """The run's seed: the controller's (handed to each xdist worker), else GOV21_TEST_SEED, else new."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "gov21_seed" in workerinput:
        _seed["value"] = int(workerinput["gov21_seed"])
    else:
        given = os.environ.get(SEED_VARIABLE, "").strip()
        try:
            _seed["value"] = int(given) if given else secrets.randbelow(10**9)
        except ValueError:
            raise pytest.UsageError(f"{SEED_VARIABLE} must be a whole number, not {given!r}") from None
    if config.getoption("hypothesis_seed", None) is None:
        from hypothesis import core

        core.global_force_seed = run_seed()  # what --hypothesis-seed does


def run_seed() -> int:
    """The seed of this run's random inputs."""
    return _seed["value"]


def _replay_line() -> str:
    return f"random inputs seeded with {SEED_VARIABLE}={run_seed()} (set it to replay them)"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["gov21_seed"] = run_seed()


def pytest_report_header(config: pytest.Config) -> str:
    return _replay_line()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        report.sections.append(("gov21 seed", _replay_line()))
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if exitstatus == pytest.ExitCode.TESTS_FAILED:
        terminalreporter.write_line(_replay_line())


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random inputs for one test, replayable: seeded from the run's seed and the test's id."""
    return random.Random(f"{run_seed()}:{request.node.nodeid}")
