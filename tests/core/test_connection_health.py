"""The PostgreSQL connection's health check without a round trip (decision 0083): a quiet kept
connection is used as it is, and one the server ended between requests is opened again before the
request's first statement."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from gov21.core.backends.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own connections")


@pytest.fixture
def wrapper(django_db_blocker: Any) -> Iterator[DatabaseWrapper]:
    """A second connection to the test database, kept between requests and health-checked as the
    platform's are (outside the test's transaction, in autocommit)."""
    settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}
    with override_settings(), django_db_blocker.unblock():
        kept = DatabaseWrapper(settings_dict, alias="health")
        yield kept
        kept.close()


def _pid(wrapper: DatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def _next_request(wrapper: DatabaseWrapper) -> None:
    """What Django does for a kept connection as a request starts (and as the last one finished)."""
    wrapper.close_if_unusable_or_obsolete()


def _checks(wrapper: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records each ``SELECT 1`` check the wrapper makes, with its answer."""
    made: list[bool] = []
    usable = wrapper.is_usable

    def recorded() -> bool:
        made.append(usable())
        return made[-1]

    monkeypatch.setattr(wrapper, "is_usable", recorded)
    return made


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the server's message did not arrive in 10 s"
        time.sleep(0.01)


@pytest.mark.django_db
def test_a_quiet_kept_connection_is_used_without_asking_the_server(
    wrapper: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _pid(wrapper)
    checks = _checks(wrapper, monkeypatch)
    for _request in range(3):
        _next_request(wrapper)
        assert wrapper.quiet()
        assert _pid(wrapper) == first
    assert checks == []


@pytest.mark.django_db
def test_a_connection_the_server_ended_is_opened_again_before_the_next_statement(
    wrapper: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _pid(wrapper)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        assert cursor.fetchone() == (True,)
    _wait_for(lambda: not wrapper.quiet())
    checks = _checks(wrapper, monkeypatch)
    _next_request(wrapper)
    second = _pid(wrapper)  # no error: the check found it ended and opened another
    assert checks == [False]
    assert second != first
    _next_request(wrapper)
    assert _pid(wrapper) == second


@pytest.mark.django_db
def test_something_to_read_on_a_live_connection_makes_the_full_check(
    wrapper: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notification waiting on the socket is not an ended session: the full check passes and the
    same connection goes on."""
    first = _pid(wrapper)
    with wrapper.cursor() as cursor:
        cursor.execute("LISTEN gov21_health")
    # Sent from a session of its own: the test's transaction would hold it until it ends.
    other = DatabaseWrapper({**connection.settings_dict}, alias="notifier")
    try:
        with other.cursor() as cursor:
            cursor.execute("NOTIFY gov21_health")
    finally:
        other.close()
    _wait_for(lambda: not wrapper.quiet())
    checks = _checks(wrapper, monkeypatch)
    _next_request(wrapper)
    assert _pid(wrapper) == first
    assert checks == [True]


@pytest.mark.django_db
def test_a_connection_in_a_transaction_is_not_quiet(wrapper: DatabaseWrapper) -> None:
    _pid(wrapper)
    assert wrapper.quiet()
    wrapper.set_autocommit(False)
    _pid(wrapper)
    assert not wrapper.quiet()
    wrapper.rollback()
    wrapper.set_autocommit(True)
    assert wrapper.quiet()
