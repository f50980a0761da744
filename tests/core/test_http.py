from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from gov21.core.http import InProcessTransport, client_address, trusted_proxies
from gov21.core.logs import request_id

PROXIES = "10.0.0.0/8, 2001:db8:ffff::/48"


def _trust(monkeypatch: pytest.MonkeyPatch, proxies: str) -> None:
    """Set GOV21_TRUSTED_PROXIES as the settings module reads it at start."""
    monkeypatch.setattr(django_settings, "GOV21_TRUSTED_PROXIES", [p.strip() for p in proxies.split(",") if p.strip()])


def _address(monkeypatch: pytest.MonkeyPatch, *, peer: str, forwarded: str | None = None, proxies: str = "") -> str:
    _trust(monkeypatch, proxies)
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))  # type: ignore[arg-type]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _address(monkeypatch, peer="198.51.100.7", forwarded="203.0.113.9") == "198.51.100.7"


def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _address(monkeypatch, peer="198.51.100.7", forwarded="10.0.0.9", proxies=PROXIES) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The client wrote "1.1.1.1" itself; the edge proxy appended the address it saw, then an inner proxy.
    forwarded = "1.1.1.1, 203.0.113.5, 10.1.2.3"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded=forwarded, proxies=PROXIES) == "203.0.113.5"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="203.0.113.6", proxies=PROXIES) == "203.0.113.6"


def test_ports_ipv6_and_mapped_addresses_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="203.0.113.5:4711", proxies=PROXIES) == "203.0.113.5"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="[2001:db8::1]:443", proxies=PROXIES) == "2001:db8::1"
    assert _address(monkeypatch, peer="2001:db8:ffff::2", forwarded="2001:db8::7", proxies=PROXIES) == "2001:db8::7"
    assert _address(monkeypatch, peer="::ffff:198.51.100.7", forwarded="1.2.3.4", proxies=PROXIES) == "198.51.100.7"


def test_a_request_from_the_proxy_itself_or_with_garbage_stands_for_the_nearest_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _address(monkeypatch, peer="10.0.0.1", proxies=PROXIES) == "10.0.0.1"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="unknown, 10.0.0.2", proxies=PROXIES) == "10.0.0.2"


def test_a_setting_that_is_not_an_address_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(monkeypatch, "10.0.0.0/8,proxy.example")
    with pytest.raises(ValueError, match=r"GOV21_TRUSTED_PROXIES: 'proxy\.example'"):
        trusted_proxies()


def test_gunicorn_believes_forwarded_headers_from_the_trusted_proxies_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config

    from gov21.core.http import gunicorn_forwarding

    for proxies, believed in (("", []), ("10.0.0.0/8, 192.0.2.1", ["10.0.0.0/8", "192.0.2.1/32"])):
        _trust(monkeypatch, proxies)
        config = Config()
        name, value = gunicorn_forwarding()
        config.set(name.removeprefix("--").replace("-", "_"), value)
        # Gunicorn's default believes anyone on loopback; the platform's list replaces it.
        assert config.forwarded_allow_ips == believed


class _App:
    """A WSGI application that notes the thread it answered on; held until released when asked."""

    def __init__(self, *, hold: bool = False) -> None:
        self.threads: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        self.release.wait(timeout=60)
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Seen-Id", environ.get("HTTP_X_REQUEST_ID", ""))])
        return [environ["PATH_INFO"].encode()]


@pytest.fixture
def transports() -> Iterator[list[InProcessTransport]]:
    made: list[InProcessTransport] = []
    yield made
    for transport in made:
        transport.close()


def _transport(made: list[InProcessTransport], app: _App, **options: Any) -> InProcessTransport:
    transport = InProcessTransport(app=app, **{"workers": 2, "waiting": 2, "timeout": 30.0, **options})
    made.append(transport)
    return transport


def test_a_call_in_process_is_answered_on_a_thread_of_the_pool_with_the_callers_request_id(
    transports: list[InProcessTransport],
) -> None:
    app = _App()
    token = request_id.set("req-1234")
    try:
        with httpx2.Client(transport=_transport(transports, app, name="pool")) as client:
            response = client.get("http://127.0.0.1:8000/oidc/userinfo")
    finally:
        request_id.reset(token)
    assert (response.status_code, response.text, response.headers["X-Seen-Id"]) == (200, "/oidc/userinfo", "req-1234")
    assert app.threads[0].startswith("pool-") and app.threads[0] != threading.current_thread().name


def test_a_call_not_answered_in_time_fails_as_a_timeout(transports: list[InProcessTransport]) -> None:
    app = _App(hold=True)
    transport = _transport(transports, app, timeout=0.1)
    with pytest.raises(httpx2.ReadTimeout):
        transport.handle_request(httpx2.Request("GET", "http://127.0.0.1:8000/slow"))
    app.release.set()


def test_a_call_that_finds_every_worker_busy_and_the_queue_full_fails_at_once(
    transports: list[InProcessTransport],
) -> None:
    app = _App(hold=True)
    transport = _transport(transports, app, workers=1, waiting=1, timeout=60.0)
    held = [
        threading.Thread(target=_quietly, args=(transport, f"http://127.0.0.1:8000/held/{n}"), daemon=True)
        for n in range(2)
    ]
    held[0].start()
    assert app.entered.wait(timeout=30)
    held[1].start()
    _until(lambda: transport._jobs.full())  # the second call waits in the queue

    with pytest.raises(httpx2.PoolTimeout):
        transport.handle_request(httpx2.Request("GET", "http://127.0.0.1:8000/one-too-many"))

    app.release.set()
    for thread in held:
        thread.join(timeout=30)
    assert sorted(app.threads) == [app.threads[0]] * 2, "the queued call ran once the worker was free"


def test_a_call_given_up_while_queued_never_runs(transports: list[InProcessTransport]) -> None:
    app = _App(hold=True)
    transport = _transport(transports, app, workers=1, waiting=1, timeout=0.1)
    with pytest.raises(httpx2.ReadTimeout):  # runs, and holds the only worker
        transport.handle_request(httpx2.Request("GET", "http://127.0.0.1:8000/first"))
    with pytest.raises(httpx2.ReadTimeout):  # waits in the queue, and is given up
        transport.handle_request(httpx2.Request("GET", "http://127.0.0.1:8000/second"))
    app.release.set()
    _until(lambda: transport._jobs.empty())  # a given-up call keeps its place until a worker drops it
    transport.timeout = 30.0
    response = transport.handle_request(httpx2.Request("GET", "http://127.0.0.1:8000/third"))
    assert response.read() == b"/third"
    assert len(app.threads) == 2, "the call given up while queued was run anyway"


@pytest.mark.django_db(transaction=True)
def test_the_whole_application_answers_in_process_without_a_socket(
    transports: list[InProcessTransport], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(self: socket.socket, address: object) -> None:
        raise AssertionError(f"a connection to {address}")

    transport = InProcessTransport(workers=1, waiting=1, timeout=30.0)
    transports.append(transport)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with httpx2.Client(transport=transport) as client:
        response = client.get("http://127.0.0.1:8000/.well-known/openid-configuration")
    assert response.status_code == 200 and response.json()["issuer"]
    assert response.headers["X-Request-Id"]  # through Django's middleware, as over the network


def _quietly(transport: InProcessTransport, url: str) -> None:
    with contextlib.suppress(httpx2.HTTPError):
        transport.handle_request(httpx2.Request("GET", url))


def _until(condition: Callable[[], bool]) -> None:
    pause = threading.Event()
    for _ in range(3000):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError("the condition never held")
