"""Limits on guessing: counted before anything is checked (so parallel guesses cannot slip past),
per account and per client address, forgotten when their window ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.identity.models import AuthEvent
from gov21.identity.services import password_authenticate
from tests.identity import guessing
from tests.identity.flows import PASSWORD, citizen

LIMIT = 5  # GOV21_SIGN_IN_ACCOUNT_ATTEMPTS's default


def _trust(monkeypatch: pytest.MonkeyPatch, proxies: str) -> None:
    """Set GOV21_TRUSTED_PROXIES as the settings module reads it at start."""
    monkeypatch.setattr(django_settings, "GOV21_TRUSTED_PROXIES", [p.strip() for p in proxies.split(",") if p.strip()])


@pytest.fixture(scope="module")
def guessed_on_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, int]]:
    """Every parallel guessing run, made by a separate gov21 process on its own database file."""
    data_dir = tmp_path_factory.mktemp("guessing")
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "GOV21_DATABASE_URL"}
    env |= {
        "GOV21_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "gov21.settings",
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root), env.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.identity.guessing"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("kind", "checked"),
    [("totp", "wrong_code"), ("password", "sign_in_failed"), ("activation", "activation_failed")],
)
def test_parallel_wrong_guesses_get_at_most_the_limit_checked(
    kind: str, checked: str, request: pytest.FixtureRequest
) -> None:
    if connection.vendor == "sqlite":
        outcomes = Counter(request.getfixturevalue("guessed_on_sqlite_file")[kind])
    else:
        outcomes, right = guessing.guess(kind)
        with pytest.raises(DomainError) as info:
            right()
        outcomes[f"right_guess_{info.value.code}"] += 1
    # Every guess got an answer, and only the first five were checked; the rest were told to wait.
    assert sum(outcomes.values()) == guessing.THREADS[kind] + 1, outcomes
    assert outcomes[checked] <= LIMIT, outcomes
    assert outcomes[checked] + outcomes["too_many_attempts"] == guessing.THREADS[kind], outcomes
    # The right guess, made after them, waits too (an activation code guessed at five times is burnt).
    assert outcomes["right_guess_accepted"] == 0, outcomes


def _wrong_passwords(identifier: str, times: int, source: str = "10.2.2.2") -> list[str]:
    answers = []
    for _ in range(times):
        with pytest.raises(DomainError) as info:
            password_authenticate(identifier=identifier, password="not the password", source=source)
        answers.append(info.value.code)
    return answers


@pytest.mark.django_db
def test_an_accounts_count_is_forgotten_when_its_window_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    person = citizen()
    assert _wrong_passwords(person.identifier, LIMIT + 1) == ["sign_in_failed"] * LIMIT + ["too_many_attempts"]
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=16))
    # A fresh window: as many checked guesses as the first, and no longer delays that grow.
    assert _wrong_passwords(person.identifier, LIMIT) == ["sign_in_failed"] * LIMIT
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=32))
    assert password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.2.2.2")


@pytest.mark.django_db
def test_a_refused_attempt_tells_how_long_to_wait() -> None:
    person = citizen()
    _wrong_passwords(person.identifier, LIMIT)
    with pytest.raises(DomainError) as info:
        password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.2.2.3")
    assert info.value.status == 429
    assert 0 < info.value.extra["retry_after"] <= 900


# --- over HTTP, behind the country's reverse proxy ----------------------------------------------------

PROXY = "10.0.0.1"


def _sign_in(client: Client, identifier: str, password: str, *, peer: str, forwarded: str | None = None) -> int:
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    response = client.post("/auth/sign-in", {"identifier": identifier, "password": password}, **headers)  # type: ignore[arg-type]
    return response.status_code


@pytest.mark.django_db
def test_an_attacker_hammering_accounts_through_the_proxy_locks_those_accounts_not_the_country(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust(monkeypatch, "10.0.0.0/8")
    person = citizen()
    attacker = "203.0.113.66"
    # Forty wrong passwords over eight accounts: everyone's traffic arrives from the proxy's address.
    for n in range(8):
        target = f"{2345678900 + n}"
        assert [_sign_in(client, target, "guess", peer=PROXY, forwarded=attacker) for _ in range(LIMIT)] == [401] * 5
    # The hammered account is locked for a while, whoever asks...
    assert _sign_in(Client(), "2345678900", "guess", peer=PROXY, forwarded="203.0.113.7") == 429
    # ...but a citizen behind the same proxy signs in, and is logged at their own address.
    assert _sign_in(Client(), person.identifier, "a typo", peer=PROXY, forwarded="203.0.113.7") == 401
    assert _sign_in(Client(), person.identifier, PASSWORD, peer=PROXY, forwarded="203.0.113.7") == 302
    typo = AuthEvent.objects.get(account=person.account, kind="sign_in_failed")
    assert typo.source == "203.0.113.7"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_two_citizens_are_counted_apart(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(monkeypatch, "10.0.0.0/8")
    monkeypatch.setenv("GOV21_SIGN_IN_ADDRESS_ATTEMPTS", "3")
    first, second = "203.0.113.5", "203.0.113.6"
    answers = [_sign_in(client, f"{3456789000 + n}", "guess", peer=PROXY, forwarded=first) for n in range(4)]
    assert answers == [401, 401, 401, 429]  # the first citizen's address used its three
    assert _sign_in(client, "3456789100", "guess", peer=PROXY, forwarded=second) == 401  # not the second's
    assert _sign_in(client, "3456789101", "guess", peer=PROXY, forwarded=f"{second}, 10.0.0.2") == 401


@pytest.mark.django_db
def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trust(monkeypatch, "10.0.0.0/8")
    monkeypatch.setenv("GOV21_SIGN_IN_ADDRESS_ATTEMPTS", "3")
    peer = "198.51.100.7"
    answers = [_sign_in(client, f"{4567890000 + n}", "guess", peer=peer, forwarded=f"192.0.2.{n}") for n in range(4)]
    assert answers == [401, 401, 401, 429]
    assert set(AuthEvent.objects.filter(kind="sign_in_failed").values_list("source", flat=True)) == {peer}


@pytest.mark.django_db
def test_passkey_sign_ins_are_limited_too(client: Client) -> None:
    statuses = []
    for _ in range(LIMIT + 1):
        assert client.post("/auth/passkey/options").status_code == 200
        response = client.post(
            "/auth/passkey/sign-in",
            data='{"id": "bm90LWEtcmVhbC1wYXNza2V5", "rawId": "bm90LWEtcmVhbC1wYXNza2V5", "type": "public-key"}',
            content_type="application/json",
        )
        statuses.append(response.status_code)
    assert statuses == [400] * LIMIT + [429]


@pytest.mark.django_db
def test_the_prune_command_forgets_only_ended_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    from io import StringIO

    from django.core.management import call_command

    from gov21.identity.models import SignInThrottle

    _wrong_passwords("5678901234", 2)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=16))
    _wrong_passwords("5678901235", 1, source="10.2.2.9")
    out = StringIO()
    call_command("identity", "prune", stdout=out)
    # The first identifier's window (and its address's) ended; the second's is current.
    assert out.getvalue().strip() == "Forgot 2 ended attempt windows."
    assert SignInThrottle.objects.count() == 2
