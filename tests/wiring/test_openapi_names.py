"""Two schemas of the public API may not share a name: django-ninja keeps the last one it meets under
that name in the OpenAPI document, so a client generated from it would read one record as another."""

from __future__ import annotations

from typing import Any

import pytest
from ninja.openapi.schema import OpenAPISchema

from gov21.api import api


def _watch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of schemas added while one of that name but another shape is already there."""
    clashes: list[str] = []
    original = OpenAPISchema.add_schema_definitions

    def checked(self: OpenAPISchema, definitions: dict[str, Any]) -> None:
        clashes.extend(name for name, body in definitions.items() if self.schemas.get(name, body) != body)
        original(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", checked)
    return clashes


def test_no_two_schemas_of_the_public_api_share_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    clashes = _watch(monkeypatch)
    document = api.get_openapi_schema(path_prefix="/api/v1")
    assert len(document["components"]["schemas"]) > 10, "the document has almost no schemas: the check saw nothing"
    assert sorted(set(clashes)) == []


def test_a_second_schema_of_the_same_name_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    clashes = _watch(monkeypatch)
    schema = OpenAPISchema.__new__(OpenAPISchema)
    schema.schemas = {"EventOut": {"title": "EventOut", "properties": {"a": {"type": "string"}}}}
    schema.add_schema_definitions({"EventOut": {"title": "EventOut", "properties": {"a": {"type": "string"}}}})
    assert clashes == []
    schema.add_schema_definitions({"EventOut": {"title": "EventOut", "properties": {"b": {"type": "integer"}}}})
    assert clashes == ["EventOut"]
