"""Past capacity the platform answers 503 with Retry-After at once, instead of letting requests hang,
and takes work again as soon as a slot frees up."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from django.test import Client
from prometheus_client import CollectorRegistry, multiprocess

from gov21.core import capacity
from gov21.core.capacity import Busy, Gate
from gov21.core.monitoring import multiprocess_ensure


def _detail(seconds: int) -> str:
    return f"come back in {seconds} s"


def _refused(gate: str) -> float:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=multiprocess_ensure())  # type: ignore[no-untyped-call]
    value = registry.get_sample_value("gov21_refused_total", {"gate": gate})
    return value or 0.0


def _until(condition: object) -> None:
    """Wait (bounded) until another thread has reached the state ``condition`` reports."""
    done = threading.Event()
    for _ in range(5000):
        if condition():  # type: ignore[operator]
            return
        done.wait(0.001)
    raise AssertionError("the other thread never got there")


def test_a_full_gate_with_no_queue_refuses_at_once_with_when_to_come_back() -> None:
    gate = Gate(name="test-full", slots=1, queue=0, wait_s=60, retry_after=7)
    gate.enter(_detail)
    before = _refused("test-full")

    with pytest.raises(Busy) as refused:
        gate.enter(_detail)  # would hang for a minute if the queue were not bounded

    assert refused.value.status == 503
    assert refused.value.retry_after == 7 and refused.value.extra == {"retry_after": 7}
    assert refused.value.detail == "come back in 7 s"
    assert _refused("test-full") == before + 1
    gate.leave()
    gate.enter(_detail)  # nothing sticky: the freed slot is taken at once


def test_a_waiting_request_gets_the_slot_when_it_frees_and_one_past_the_queue_is_refused() -> None:
    gate = Gate(name="test-queue", slots=1, queue=1, wait_s=60, retry_after=3)
    holding, release = threading.Event(), threading.Event()
    admitted: list[bool] = []

    def holder() -> None:
        with gate.held(_detail):
            holding.set()
            release.wait(30)

    def waiter() -> None:
        with gate.held(_detail):
            admitted.append(True)

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=waiter)
    second.start()
    _until(lambda: gate.waiting == 1)

    with pytest.raises(Busy):  # the one slot is held and the one queue place taken
        gate.enter(_detail)

    release.set()
    first.join(30)
    second.join(30)
    assert admitted == [True]
    assert gate.holding == 0 and gate.waiting == 0


def test_a_wait_that_runs_out_is_refused() -> None:
    gate = Gate(name="test-wait", slots=1, queue=4, wait_s=0, retry_after=2)
    with gate.held(_detail), pytest.raises(Busy):
        gate.enter(_detail)
    assert gate.waiting == 0


def test_someone_continuing_takes_a_kept_slot_while_someone_arriving_is_refused() -> None:
    gate = Gate(name="test-lane", slots=1, queue=0, wait_s=0, retry_after=4, reserved=1, reserved_queue=0)
    gate.enter(_detail)  # everyone's slot is taken

    with pytest.raises(Busy):
        gate.enter(_detail)  # a newcomer is told to come back
    gate.enter(_detail, continuing=True)  # the next step of a sign-in goes ahead
    with pytest.raises(Busy):  # the lane is bounded too
        gate.enter(_detail, continuing=True)

    gate.leave()
    with pytest.raises(Busy):  # the slot that freed is the one kept for continuing work
        gate.enter(_detail)
    gate.leave()
    gate.enter(_detail)
    assert gate.holding == 1


def test_when_a_slot_frees_someone_continuing_gets_it_before_someone_who_arrived_earlier() -> None:
    gate = Gate(name="test-order", slots=1, queue=2, wait_s=30, retry_after=4, reserved=0, reserved_queue=2)
    gate.enter(_detail)
    order: list[str] = []

    def ask(who: str, continuing: bool) -> None:
        with gate.held(_detail, continuing=continuing):
            order.append(who)

    arriving = threading.Thread(target=ask, args=("arriving", False))
    arriving.start()
    _until(lambda: gate.waiting == 1)
    continuing = threading.Thread(target=ask, args=("continuing", True))
    continuing.start()
    _until(lambda: gate.waiting == 2)

    gate.leave()
    arriving.join(30)
    continuing.join(30)
    assert order == ["continuing", "arriving"]  # and the one who arrived was not forgotten
    assert gate.holding == 0 and gate.waiting == 0


def test_someone_arriving_is_not_kept_waiting_after_a_continuing_request_gives_up() -> None:
    gate = Gate(name="test-give-up", slots=1, queue=1, wait_s=30, retry_after=4, reserved=0, reserved_queue=1)
    gate.enter(_detail)
    got: list[str] = []

    def arrive() -> None:
        with gate.held(_detail):
            got.append("arriving")

    arriving = threading.Thread(target=arrive)
    arriving.start()
    _until(lambda: gate.waiting == 1)
    gate.wait_s = 0.05  # the continuing request waits briefly and gives up
    with pytest.raises(Busy):
        gate.enter(_detail, continuing=True)
    gate.leave()
    arriving.join(30)
    assert got == ["arriving"]


@pytest.fixture
def full() -> Iterator[Gate]:
    """The request gate of this process with its one slot taken (by the test itself)."""
    gate = Gate(name="requests", slots=1, queue=0, wait_s=0, retry_after=5)
    saved = capacity.REQUESTS
    capacity.REQUESTS = gate  # type: ignore[misc]
    gate.enter(_detail)
    try:
        yield gate
    finally:
        capacity.REQUESTS = saved  # type: ignore[misc]


@pytest.mark.django_db
def test_a_person_past_capacity_gets_a_page_in_their_language_and_when_to_try_again(client: Client, full: Gate) -> None:
    before = _refused("requests")

    response = client.get("/services", HTTP_ACCEPT="text/html,*/*", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'lang="es"' in page
    assert "Demasiado ocupado" in page and "5 segundos" in page
    assert 'href="/services"' in page  # try the same page again
    nonce = page.split('<style nonce="', 1)[1].split('"', 1)[0]
    assert nonce and f"'nonce-{nonce}'" in response["Content-Security-Policy"]  # the page is styled
    assert _refused("requests") == before + 1

    full.leave()  # the surge ends
    assert client.get("/healthz").status_code == 200
    assert client.get("/services", HTTP_ACCEPT="text/html").status_code != 503


@pytest.mark.django_db
def test_a_program_past_capacity_gets_problem_json(client: Client, full: Gate) -> None:
    response = client.get("/api/v1/registry/persons/2345678901", HTTP_ACCEPT="text/html,application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == 503 and body["code"] == "busy" and body["retry_after"] == 5
    assert body["instance"] == "/api/v1/registry/persons/2345678901"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/.well-known/openid-configuration", "/oidc/jwks.json"])
def test_health_checks_and_the_providers_back_channel_are_not_refused(client: Client, full: Gate, path: str) -> None:
    assert client.get(path).status_code == 200


@pytest.fixture
def full_for_arrivals() -> Iterator[Gate]:
    """The request gate with its ordinary slot taken and one slot kept for people continuing."""
    gate = Gate(name="requests", slots=1, queue=0, wait_s=0, retry_after=5, reserved=1, reserved_queue=0)
    saved = capacity.REQUESTS
    capacity.REQUESTS = gate  # type: ignore[misc]
    gate.enter(_detail)
    try:
        yield gate
    finally:
        capacity.REQUESTS = saved  # type: ignore[misc]


@pytest.mark.django_db
def test_past_capacity_a_sign_in_under_way_goes_on_while_a_newcomer_is_asked_to_wait(
    client: Client, full_for_arrivals: Gate
) -> None:
    assert client.get("/services", HTTP_ACCEPT="text/html").status_code == 503  # just arriving

    # The next step of a sign-in already started is answered (here: no sign-in pending, so the
    # code form sends the person back to the password form, a 302, not a refusal).
    response = client.get("/auth/verify?next=/my/", HTTP_ACCEPT="text/html")
    assert response.status_code == 302 and response["Location"].startswith("/auth/sign-in")
    # So is a form the person holds (here refused by CSRF, which only a request let in can be).
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/feedback", {"text": "x"}, HTTP_ACCEPT="text/html").status_code == 403
    assert full_for_arrivals.holding == 1  # every slot given back


def test_the_server_gives_each_worker_more_threads_than_the_gate_lets_work_and_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Otherwise a request past capacity would wait in gunicorn's own queue, where nothing answers it."""
    monkeypatch.setenv("GOV21_WEB_THREADS", "4")
    monkeypatch.setenv("GOV21_WEB_SLOTS", "6")
    monkeypatch.setenv("GOV21_WEB_QUEUE", "10")
    monkeypatch.setenv("GOV21_WEB_CONTINUING_SLOTS", "3")
    monkeypatch.setenv("GOV21_WEB_CONTINUING_QUEUE", "5")

    flags = [flag for flag in capacity.gunicorn_capacity() if flag != "--reuse-port"]  # the one without a value

    given = dict(zip(flags[::2], flags[1::2], strict=True))
    assert given["--worker-class"] == "gthread"
    assert int(given["--threads"]) > 6 + 10 + 3 + 5
    assert int(given["--worker-connections"]) >= int(given["--threads"])
    assert int(given["--backlog"]) <= 128
    # A person pauses longer than gunicorn's default 2 s between pages; the form they then send
    # must not go out on a connection the server is closing.
    assert int(given["--keep-alive"]) >= 30


def test_each_worker_listens_on_the_port_itself_unless_the_operator_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With one shared socket, a worker already awake took a whole burst of keep-alive connections."""
    monkeypatch.delenv("GOV21_WEB_REUSE_PORT", raising=False)
    assert "--reuse-port" in capacity.gunicorn_capacity()
    monkeypatch.setenv("GOV21_WEB_REUSE_PORT", "false")
    assert "--reuse-port" not in capacity.gunicorn_capacity()


def test_a_port_something_listens_on_is_taken_even_for_a_listener_that_shares_ports() -> None:
    """A second server started on the port by mistake must fail, not join the workers' group."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        listener.listen()
        assert capacity.port_taken("127.0.0.1", port)
    assert not capacity.port_taken("127.0.0.1", port)


def test_web_workers_share_a_few_malloc_arenas_unless_the_operator_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dozens of threads per worker would otherwise each take a glibc arena that keeps what it freed."""
    monkeypatch.delenv("GOV21_WEB_MALLOC_ARENAS", raising=False)
    assert capacity.web_environment({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    # An operator's own choice stands, and 0 leaves glibc's default.
    assert capacity.web_environment({"MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"
    monkeypatch.setenv("GOV21_WEB_MALLOC_ARENAS", "0")
    assert "MALLOC_ARENA_MAX" not in capacity.web_environment({"PATH": "/bin"})
    monkeypatch.setenv("GOV21_WEB_MALLOC_ARENAS", "-1")
    with pytest.raises(ValueError, match="GOV21_WEB_MALLOC_ARENAS"):
        capacity.web_environment({})
