"""Passwords are kept with Argon2id at OWASP's parameters, older hashes are upgraded at the next
sign-in, and when too many people sign in at once the password step says so instead of hanging."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import argon2
import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from gov21.core.capacity import Busy
from gov21.identity import passwords
from gov21.identity.models import SignInThrottle
from gov21.identity.services import password_authenticate
from tests.identity.flows import PASSWORD, citizen

pytestmark = pytest.mark.django_db


def _params(encoded: str) -> tuple[argon2.Type, int, int, int]:
    found = argon2.extract_parameters(encoded.removeprefix("argon2"))
    return found.type, found.memory_cost, found.time_cost, found.parallelism


def test_a_new_password_is_kept_with_argon2id_at_owasps_parameters() -> None:
    person = citizen()
    assert _params(person.account.user.password) == (argon2.Type.ID, 19456, 2, 1)


@pytest.mark.parametrize(
    "old_hash",
    [
        # Django's own Argon2 defaults (100 MiB, 2 passes, 8 lanes), which gov21 used before.
        lambda: (
            "argon2"
            + argon2.PasswordHasher(time_cost=2, memory_cost=102400, parallelism=8, type=argon2.Type.ID).hash(PASSWORD)
        ),
        lambda: make_password(PASSWORD, hasher="pbkdf2_sha256"),
    ],
    ids=["django-argon2-defaults", "pbkdf2"],
)
def test_an_older_hash_is_upgraded_at_the_next_sign_in(old_hash: object) -> None:
    person = citizen()
    user = person.account.user
    user.password = old_hash()  # type: ignore[operator]
    user.save(update_fields=["password"])

    with pytest.raises(Exception, match="not right"):
        password_authenticate(identifier=person.identifier, password="a wrong password", source="10.0.0.1")
    user.refresh_from_db()
    assert user.password.startswith(("argon2$argon2id$v=19$m=102400", "pbkdf2_sha256$"))  # not on a failure

    password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.0.0.1")

    user.refresh_from_db()
    assert _params(user.password) == (argon2.Type.ID, 19456, 2, 1)
    assert user.check_password(PASSWORD)


@contextlib.contextmanager
def password_slots_taken() -> Iterator[None]:
    """Every password slot of this process held by another sign-in, and no room to wait."""
    gate = passwords.PASSWORD_GATE
    saved = (gate.queue, gate.wait_s)
    holding, release = threading.Event(), threading.Event()

    def other_sign_in() -> None:
        with gate.held(str):
            holding.set()
            release.wait(60)

    others = [threading.Thread(target=other_sign_in) for _ in range(gate.slots)]
    gate.queue, gate.wait_s = 0, 0.0
    for other in others:
        holding.clear()
        other.start()
        assert holding.wait(30)
    try:
        yield
    finally:
        release.set()
        for other in others:
            other.join(30)
        gate.queue, gate.wait_s = saved


def test_a_full_password_step_answers_503_keeping_what_was_typed_but_the_password(client: Client) -> None:
    person = citizen()

    with password_slots_taken():
        response = client.post(
            "/auth/sign-in", {"identifier": person.identifier, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 503
    assert response["Retry-After"] == str(passwords.PASSWORD_GATE.retry_after)
    page = response.content.decode()
    assert "Many people are signing in right now" in page
    assert f'value="{person.identifier}"' in page
    assert PASSWORD not in page
    # Nothing was checked, so the person has not used up an attempt.
    assert not SignInThrottle.objects.filter(attempts__gt=0).exists()


def test_the_password_step_takes_sign_ins_again_when_the_others_are_done() -> None:
    person = citizen()
    gate = passwords.PASSWORD_GATE
    saved = (gate.queue, gate.wait_s)
    gate.queue, gate.wait_s = 0, 0.0
    holding, release = threading.Event(), threading.Event()

    def other_sign_in() -> None:
        with gate.held(str):
            holding.set()
            release.wait(60)

    other = threading.Thread(target=other_sign_in)
    try:
        for _ in range(gate.slots - 1):
            gate.enter(str)  # the test holds the other slots itself
        other.start()
        assert holding.wait(30)
        with pytest.raises(Busy):
            password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.0.0.3")
        release.set()
        other.join(30)
    finally:
        release.set()
        for _ in range(gate.slots - 1):
            gate.leave()
        gate.queue, gate.wait_s = saved

    account = password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.0.0.3")

    assert account.pk == person.account.pk
