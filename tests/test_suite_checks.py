"""tests/suite_checks.py: how an API call is matched to its documented operation, and what the
suite-wide check reports as unproved."""

from __future__ import annotations

import json

from tests.suite_checks import OPENAPI, documented_operations, outcome, path_template, unproved


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
