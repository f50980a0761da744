"""The portal as a relying party: its registration comes from configuration, never from a request."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from gov21.identity.models import RelyingParty
from gov21.portal import rp

pytestmark = pytest.mark.django_db


def test_sign_in_never_takes_an_address_from_the_host_header(client: Client, settings: Any) -> None:
    settings.BASE_URL = "https://portal.example.org"
    configured = "https://portal.example.org/auth/callback"
    for host in ("localhost:9999", "127.0.0.1", "testserver"):
        response = client.get("/sign-in", HTTP_HOST=host)
        assert response.status_code == 302
        query = parse_qs(urlsplit(response["Location"]).query)
        assert query["redirect_uri"] == [configured], host
    portal = RelyingParty.objects.get(client_id=rp.CLIENT_ID)
    assert portal.redirect_uris == [configured]
    assert portal.post_logout_redirect_uris == ["https://portal.example.org/"]


def test_bootstrap_registers_the_configured_address_and_drops_others(settings: Any) -> None:
    settings.BASE_URL = "https://old.example.org"
    rp.bootstrap()
    settings.BASE_URL = "https://new.example.org"
    rp.bootstrap()
    portal = RelyingParty.objects.get(client_id=rp.CLIENT_ID)
    assert portal.redirect_uris == ["https://new.example.org/auth/callback"]
    assert portal.post_logout_redirect_uris == ["https://new.example.org/"]
