"""The platform's own commands: ``gov21 up`` and ``gov21 openapi``."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gov21.identity.models import Account
from tests.identity.flows import Person, portal_sign_in, with_totp

pytestmark = pytest.mark.django_db


def test_up_prepares_a_demo_nation_and_sign_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    out = io.StringIO()
    call_command("up", no_serve=True, people=300, stdout=out)
    from gov21.registry.contracts import population_count

    assert population_count() == 300
    sign_ins = (tmp_path / "demo-sign-ins.txt").read_text().splitlines()
    username, password, roles = sign_ins[0].split("\t")
    assert username == "registrar" and roles == "registrar" and len(password) >= 10
    assert (tmp_path / "demo-sign-ins.txt").stat().st_mode & 0o077 == 0
    # The demo registrar signs in through the provider once an authenticator app is added.
    person = with_totp(Person(username, password, "", Account.objects.get(user__username=username)))
    client = Client()
    portal_sign_in(client, person, next_url="/office/registry/")
    assert client.get("/office/registry/").status_code == 200
    # A demo citizen can activate a digital ID with the code kept beside the sign-ins.
    uin, code = (tmp_path / "demo-citizen.txt").read_text().strip().split("\t")
    activation = Client().post(
        "/auth/activate",
        {"uin": uin, "code": code, "password": "demo pass phrase", "password_again": "demo pass phrase"},
    )
    assert activation.status_code == 302
    # The STAC catalogue shows the demo islands before and after a hurricane.
    from gov21.imagery.selectors import collection_get

    assert "Drawing the demo imagery" in out.getvalue()
    assert collection_get("demo-scenes") is not None
    scenes = Client().get("/stac/collections/demo-scenes/items").json()
    assert sorted(f["id"] for f in scenes["features"]) == ["post-hurricane-150m", "pre-hurricane-150m"]
    # A second start keeps the nation, the imagery and the sign-ins.
    again = io.StringIO()
    call_command("up", no_serve=True, stdout=again)
    assert population_count() == 300 and "Drawing the demo imagery" not in again.getvalue()
    assert (tmp_path / "demo-sign-ins.txt").read_text().splitlines() == sign_ins


def test_up_refuses_a_port_in_use_before_preparing_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its workers share the port with SO_REUSEPORT; a second server must not quietly join them."""
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(CommandError, match=f"Port {port} on 127.0.0.1 is already in use"):
            call_command("up", host="127.0.0.1", port=port, people=300, stdout=io.StringIO())
    assert not any(tmp_path.iterdir())  # nothing was prepared


def test_openapi_check_fails_when_the_document_drifts(tmp_path: Path) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    with pytest.raises(CommandError, match="out of date"):
        call_command("openapi", check=str(stale), stdout=io.StringIO())
