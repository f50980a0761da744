"""The geographic server's own API definition, fuzzed: no generated request gets a server error, every
error asked for as data is problem+json (one asked for as a page is the error page), and every answer
conforms to the definition."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import response_schema_conformance
from schemathesis.core.failures import FailureGroup

from tests.identity.flows import _InProcessProvider
from tests.security import fuzzing

# Registers (the asset register) serve their collections from the database.
pytestmark = pytest.mark.django_db

CASES = int(os.environ.get("GOV21_FUZZ_CASES", "8"))
# The land register's collections read their parcels and buildings from the database.
pytestmark = pytest.mark.django_db


def test_the_geographic_api_never_fails_and_answers_errors_as_problems() -> None:
    schema = schemathesis.openapi.from_wsgi("/geo/api", _InProcessProvider())
    report = fuzzing.Report()
    for result in schema.get_all_operations():
        operation = result.ok()

        def check(case: Any, label: str = operation.label) -> None:
            report.add(label)
            response = case.call()
            if response.status_code >= 500:
                report.fail(label, fuzzing._curl(case), f"{response.status_code}: {response.content[:300]!r}")
                return
            as_page = (case.query or {}).get("f") == "html"
            problem = None if as_page else fuzzing._problem_failure(response)
            if problem:
                report.fail(label, fuzzing._curl(case), problem)
            if as_page:
                return
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except (AssertionError, FailureGroup) as exc:
                report.fail(label, fuzzing._curl(case), f"does not conform to the definition: {str(exc)[:300]}")

        fuzzing._run(operation.as_strategy(), CASES, check)
    # schemathesis leaves out /api itself; tests/geo/test_api.py reads it.
    assert set(report.requests) >= {
        "GET /",
        "GET /collections",
        "GET /collections/parishes",
        "GET /collections/parishes/items",
        "GET /collections/parishes/items/{featureId}",
        "GET /conformance",
    }
    assert report.failures == [], report.summary()
