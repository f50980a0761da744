"""The portal as a relying party: its registration comes from configuration, never from a request."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from django.http import HttpResponse
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from gov21.core.http import InProcessTransport
from gov21.identity.contracts import PORTAL_SESSION_KEY
from gov21.identity.models import RelyingParty
from gov21.portal import rp
from tests.identity.flows import _InProcessProvider, _next, citizen, portal_sign_in

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


@pytest.fixture
def production_provider(settings: Any) -> Iterator[None]:
    """The portal reaches the provider as a deployment does, on the process's own transport; its
    threads and their database connections are stopped afterwards."""
    rp.transport_close()
    rp._metadata.clear()
    yield
    rp.transport_close()
    rp._metadata.clear()


@pytest.mark.django_db(transaction=True)
def test_the_portal_signs_in_through_its_own_provider_in_process_without_a_socket(
    production_provider: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.GOV21_PORTAL_PROVIDER_TRANSPORT = "in-process"
    person = citizen()

    def no_network(self: socket.socket, address: object) -> None:
        raise AssertionError(f"the portal opened a connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    client = Client()
    portal_sign_in(client, person, production=True)

    assert client.get("/my/").status_code == 200
    portal = client.session[PORTAL_SESSION_KEY]
    assert portal["name"] and portal["tokens"]["access_token"]
    # The provider answered on the portal's own pool of threads, not in the page's thread.
    assert any(thread.name.startswith("gov21-portal-provider") for thread in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_over_http_the_portal_signs_in_at_its_configured_address(
    production_provider: None, settings: Any, live_server: LiveServer
) -> None:
    settings.GOV21_PORTAL_PROVIDER_TRANSPORT = "http"
    settings.BASE_URL = live_server.url
    person = citizen()
    client = Client()
    portal_sign_in(client, person, production=True)

    portal = client.session[PORTAL_SESSION_KEY]
    assert portal["name"] and portal["tokens"]["access_token"]
    assert not any(thread.name.startswith("gov21-portal-provider") for thread in threading.enumerate())


class _StuckProvider:
    """A provider that takes every request and answers none until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        self.entered.set()
        self.release.wait(timeout=60)
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b""]


@pytest.fixture
def stuck_provider() -> Iterator[tuple[_StuckProvider, InProcessTransport]]:
    app = _StuckProvider()
    transport = InProcessTransport(workers=1, waiting=1, timeout=0.2, app=app)
    rp.TRANSPORT = transport
    yield app, transport
    rp.TRANSPORT = None
    app.release.set()
    transport.close()


def _callback_after_sign_in_started(client: Client) -> HttpResponse:
    start = client.get("/sign-in")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response: HttpResponse = client.get("/auth/callback", {"code": "a-code", "state": state})
    return response


def _assert_try_again_later(response: HttpResponse) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "You are not signed in" in page and "Please try again in a minute" in page
    # Trying again is the same callback: the sign-in was kept.
    assert f'href="{response.wsgi_request.get_full_path()}"'.replace("&", "&amp;") in page


def test_a_provider_that_does_not_answer_in_time_makes_the_sign_in_say_try_again(
    client: Client, stuck_provider: tuple[_StuckProvider, InProcessTransport]
) -> None:
    _assert_try_again_later(_callback_after_sign_in_started(client))
    assert stuck_provider[0].entered.is_set()


def test_when_every_call_to_the_provider_is_taken_the_sign_in_says_try_again_at_once(
    client: Client, stuck_provider: tuple[_StuckProvider, InProcessTransport]
) -> None:
    app, transport = stuck_provider
    transport.timeout = 60.0  # only a full pool can end this sign-in early
    callers = [
        threading.Thread(target=_swallow, args=(transport, f"http://127.0.0.1:8000/held/{n}"), daemon=True)
        for n in range(2)
    ]
    callers[0].start()
    assert app.entered.wait(timeout=30), "the first call never reached the provider"
    callers[1].start()
    _wait_until(lambda: transport._jobs.full())

    _assert_try_again_later(_callback_after_sign_in_started(client))

    app.release.set()
    for caller in callers:
        caller.join(timeout=30)


def _swallow(transport: InProcessTransport, url: str) -> None:
    with contextlib.suppress(httpx2.HTTPError):
        transport.handle_request(httpx2.Request("GET", url))


def _wait_until(condition: Callable[[], bool]) -> None:
    done = threading.Event()
    for _ in range(3000):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("the condition never held")


def test_no_cookie_the_provider_sets_travels_with_the_next_persons_call(client: Client) -> None:
    seen: list[str | None] = []

    def provider(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("Cookie"))
        return httpx2.Response(200, json={"keys": []}, headers={"Set-Cookie": "sessionid=someone; Path=/"})

    rp.TRANSPORT = httpx2.MockTransport(provider)
    try:
        rp._cached_get("http://127.0.0.1:8000/.well-known/jwks.json", fresh=True)
        rp._cached_get("http://127.0.0.1:8000/.well-known/jwks.json", fresh=True)
    finally:
        rp.TRANSPORT = None
    assert seen == [None, None]


class _BusyOnce(httpx2.BaseTransport):
    """The provider, whose userinfo answers 503 once: busy just after the authorization code was spent."""

    def __init__(self) -> None:
        self.provider = httpx2.WSGITransport(app=_InProcessProvider())
        self.busy = 1
        self.asked: list[str] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.asked.append(request.url.path)
        if request.url.path == "/oidc/userinfo" and self.busy:
            self.busy -= 1
            return httpx2.Response(503, headers={"Retry-After": "5"}, request=request)
        return self.provider.handle_request(request)


def _to_the_callback(client: Client, person: Any) -> str:
    """Sign in at the provider from the portal's sign-in, up to (not including) the portal's callback."""
    response = client.get("/sign-in", {"next": "/my/"})
    for _ in range(12):
        location = response["Location"].replace("http://testserver", "").replace(rp.issuer(), "")
        where = urlsplit(location).path
        if where == "/auth/callback":
            return location
        if where == "/auth/sign-in":
            response = client.post(
                "/auth/sign-in", {"identifier": person.identifier, "password": person.password, **_next(location)}
            )
        elif where == "/auth/verify":
            response = client.post("/auth/verify", {"code": person.code(), **_next(location)})
        else:
            response = client.get(location)
        if response.status_code == 200 and 'name="decision"' in response.content.decode():
            response = client.post(response.wsgi_request.get_full_path(), {"decision": "allow"})
    raise AssertionError("the provider never sent the browser back to the portal")


def test_a_sign_in_the_provider_was_too_busy_to_finish_finishes_when_the_person_comes_back(client: Client) -> None:
    person = citizen()
    provider = _BusyOnce()
    rp.TRANSPORT = provider
    try:
        callback = _to_the_callback(client, person)

        refused = client.get(callback)
        _assert_try_again_later(refused)
        assert client.get("/my/").status_code == 302  # not signed in yet

        again = client.get(callback)  # after the wait, the same address
    finally:
        rp.TRANSPORT = None

    assert again.status_code == 302 and again["Location"] == "/my/", again.content.decode().split("alert")[-1][:300]
    assert client.get("/my/").status_code == 200
    assert client.session[PORTAL_SESSION_KEY]["name"]
    # The one-time code was exchanged once; the second try used the tokens the first obtained.
    assert provider.asked.count("/oidc/token") == 1
    assert provider.asked.count("/oidc/userinfo") == 2
