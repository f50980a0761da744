"""tests/suite_checks.py and tests/skips.py: how an API call is matched to its documented operation
and what the suite-wide check reports as unproved; how skips are written down and held to the allow-list;
how random inputs replay from the run's seed."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.skips import ALLOWLIST, AllowListError, allowances_parse, main, skips_check, skips_parse
from tests.suite_checks import (
    OPENAPI,
    ROOT,
    SkipRecorder,
    _runs_whole_suite,
    documented_operations,
    outcome,
    path_template,
    run_seed,
    unproved,
)


def test_a_django_route_becomes_the_openapi_template() -> None:
    assert path_template("api/v1/registry/events/<event_id>/validate") == "/api/v1/registry/events/{event_id}/validate"
    assert path_template("api/v1/x/<int:id>/y/<str:serial>") == "/api/v1/x/{id}/y/{serial}"


def test_only_a_success_or_a_problem_json_client_error_proves_anything() -> None:
    assert outcome(201, "application/json") == "success"
    assert outcome(422, "application/problem+json") == "problem"
    assert outcome(404, "text/html") is None  # a client error that is not a problem document
    assert outcome(500, "application/problem+json") is None
    assert outcome(302, "") is None


def test_an_operation_needs_both_a_success_and_a_problem() -> None:
    operations = {("GET", "/a"), ("POST", "/a"), ("GET", "/b/{id}")}
    calls = {("GET", "/a", "success"), ("GET", "/a", "problem"), ("POST", "/a", "problem")}
    assert unproved(operations, calls) == [
        "POST /a: no HTTP test gets a success answer",
        "GET /b/{id}: no HTTP test gets a success or a problem answer",
    ]
    assert (
        unproved(
            operations,
            calls | {("POST", "/a", "success"), ("GET", "/b/{id}", "success"), ("GET", "/b/{id}", "problem")},
        )
        == []
    )


def test_the_published_document_lists_the_registry_and_exchange_operations() -> None:
    operations = documented_operations(json.loads(OPENAPI.read_text()))
    assert ("POST", "/api/v1/registry/events/divorces") in operations
    assert ("GET", "/api/v1/exchange/usage") in operations
    assert len(operations) >= 24


def _report(nodeid: str, outcome: str, longrepr: object, **extra: object) -> pytest.TestReport:
    report = pytest.TestReport(nodeid, ("x.py", 1, "t"), {}, outcome, longrepr, "setup")  # type: ignore[arg-type]
    for key, value in extra.items():
        setattr(report, key, value)
    return report


def test_skipped_tests_and_modules_are_written_down_but_not_expected_failures(tmp_path: Path) -> None:
    written = tmp_path / "skipped.txt"
    recorder = SkipRecorder(str(written))
    recorder.pytest_runtest_logreport(_report("tests/a.py::t1", "skipped", ("a.py", 3, "Skipped: needs\n root")))
    recorder.pytest_runtest_logreport(_report("tests/a.py::t2", "passed", None))
    recorder.pytest_runtest_logreport(_report("tests/a.py::t3", "skipped", ("a.py", 4, "x"), wasxfail="known"))
    module = pytest.CollectReport("tests/b.py", "skipped", ("b.py", 1, "Skipped: not root"), [])
    recorder.pytest_collectreport(module)
    assert written.read_text().splitlines() == ["tests/a.py::t1\tneeds root", "tests/b.py\tnot root"]


def test_a_skip_must_be_allowed_on_its_engine_and_an_allowance_must_match() -> None:
    allowances = allowances_parse(
        "# comment\n\nsqlite tests/pg.py::* needs PostgreSQL\nany tests/b.py::test_x* no browser here\n"
    )
    assert [(a.engine, a.pattern, a.reason) for a in allowances] == [
        ("sqlite", "tests/pg.py::*", "needs PostgreSQL"),
        ("any", "tests/b.py::test_x*", "no browser here"),
    ]
    skipped = skips_parse("tests/pg.py::test_one\tneeds PostgreSQL\ntests/b.py::test_xy\tno chromium\n")
    assert skips_check(skipped, allowances, "sqlite") == []
    assert skips_check(skipped, allowances, "postgresql") == [
        "skipped, and not on the allow-list: tests/pg.py::test_one (needs PostgreSQL)"
    ]
    stale = skips_check(skipped[1:], allowances, "sqlite")
    assert len(stale) == 1 and stale[0].startswith("allow-list line 3 matched no skipped test on sqlite")
    with pytest.raises(AllowListError, match="line 1"):
        allowances_parse("tests/x.py::* no engine named")
    with pytest.raises(AllowListError):
        allowances_parse("sqlite tests/x.py::*")


def test_the_allow_list_is_short_reasoned_and_names_tests_that_exist() -> None:
    allowances = allowances_parse(ALLOWLIST.read_text())
    # Short: a skip is the exception, each with its reason (most say the other pass runs the test).
    assert 0 < len(allowances) <= 15
    for allowance in allowances:
        assert len(allowance.reason.split()) >= 4, allowance
        # The part before "::" names a test file, or a pattern of test files that matches some.
        files = allowance.pattern.split("::")[0]
        assert any(path.is_file() for path in ROOT.glob(files)), allowance


def test_the_checker_exits_non_zero_for_a_skip_not_allowed(tmp_path: Path) -> None:
    skipped = tmp_path / "skipped.txt"
    skipped.write_text("tests/nowhere.py::test_gone\tvanished\n")
    assert main([str(skipped), "sqlite"]) == 1
    assert main([str(skipped), "oracle"]) == 2


def test_random_inputs_replay_from_the_seed_and_the_test_id(rng: random.Random, request: pytest.FixtureRequest) -> None:
    drawn = [rng.random() for _ in range(3)]
    replayed = random.Random(f"{run_seed()}:{request.node.nodeid}")
    assert drawn == [replayed.random() for _ in range(3)]
    other_test = random.Random(f"{run_seed()}:tests/other.py::test_other")
    assert drawn != [other_test.random() for _ in range(3)]


def test_hypothesis_draws_from_the_same_seed() -> None:
    from hypothesis import core

    assert core.global_force_seed == run_seed()


def _config(*args: str, here: Path = ROOT, keyword: str = "", markexpr: str = "") -> pytest.Config:
    option = SimpleNamespace(keyword=keyword, markexpr=markexpr, lf=False)
    fake = SimpleNamespace(args=list(args), option=option, invocation_params=SimpleNamespace(dir=here))
    return fake  # type: ignore[return-value]


def test_the_api_check_runs_only_when_the_whole_suite_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOV21_API_COVERAGE", raising=False)
    assert _runs_whole_suite(_config("tests"))  # `make test`: pytest takes testpaths
    assert _runs_whole_suite(_config(".", here=ROOT)) and _runs_whole_suite(_config("..", here=ROOT / "tests"))
    assert not _runs_whole_suite(_config("tests/registry"))
    assert not _runs_whole_suite(_config("tests", "tests/core"))
    assert not _runs_whole_suite(_config("tests", keyword="api"))
    assert not _runs_whole_suite(_config("tests", markexpr="not browser"))
    monkeypatch.setenv("GOV21_API_COVERAGE", "1")
    assert _runs_whole_suite(_config("tests/registry/test_api.py"))
