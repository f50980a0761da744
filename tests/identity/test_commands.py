from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gov21.identity.models import Account
from tests.identity.flows import Person, portal_sign_in, with_totp

pytestmark = pytest.mark.django_db


def test_staff_create_makes_an_account_that_can_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-passphrase\n"))
    out = io.StringIO()
    call_command("staff", "create", "jdoe", "--role", "registrar", "--password-stdin", stdout=out)
    assert "registrar" in out.getvalue()
    # A password alone never opens the back office: the provider asks for a second factor first.
    client = Client()
    response = client.post("/auth/sign-in", {"identifier": "jdoe", "password": "long-enough-passphrase"})
    assert response.status_code == 302 and response["Location"].startswith("/auth/account?")
    person = with_totp(Person("jdoe", "long-enough-passphrase", "", Account.objects.get(user__username="jdoe")))
    portal_sign_in(client, person, next_url="/office/registry/")
    assert client.get("/office/registry/").status_code == 200


def test_staff_create_refuses_a_weak_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="too short"):
        call_command("staff", "create", "weak", "--role", "clerk", "--password-stdin", stdout=io.StringIO())


def test_registry_keys_rotate_lists_old_and_new() -> None:
    from gov21.registry.keys import registry_keys

    registry_keys().active_key()
    out = io.StringIO()
    call_command("registry_keys", "rotate", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("New signing key: ")
    new_kid = lines[0].split(": ")[1]
    assert any(line.startswith(new_kid) and "active" in line for line in lines[1:])
    assert any("retired" in line for line in lines[1:])
