from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gov21.core.config import render_markdown

pytestmark = pytest.mark.django_db


def test_token_command_prints_a_working_token_and_revokes_it() -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "--role", "reader", "--expires", "2h", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token.startswith("g21_")
    client = Client(headers={"Authorization": f"Bearer {token}", "X-Purpose": "test"})
    assert client.get("/api/v1/registry/persons", {"name": "anyone"}).status_code == 200
    token_id = int(err.getvalue().split()[1])
    call_command("token", "revoke", str(token_id), stdout=io.StringIO())
    assert client.get("/api/v1/registry/persons", {"name": "anyone"}).status_code == 401
    with pytest.raises(CommandError):
        call_command("token", "create", "--role", "reader", "--expires", "soon", stdout=io.StringIO())


def test_committed_openapi_and_configuration_docs_are_current() -> None:
    root = Path(__file__).resolve().parents[2]
    call_command("openapi", check=str(root / "docs" / "openapi.json"), stdout=io.StringIO())
    assert (root / "docs" / "configuration.md").read_text(encoding="utf-8") == render_markdown()
