from __future__ import annotations

import base64
import io
import re
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gov21.core.errors import Conflict, DomainError, Unauthenticated
from gov21.identity import totp
from gov21.identity.models import Account, AuthEvent, RelyingParty
from gov21.identity.services import (
    account_activate,
    activation_code_issue,
    client_register,
    password_authenticate,
    recovery_codes_issue,
    second_factor_verify,
)
from tests.identity.flows import OFFICER, PASSWORD, Person, citizen
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_the_rfc_6238_vectors(at: int, code: str) -> None:
    key = base64.b32decode(RFC_SECRET)
    assert totp.hotp(key, totp.step_at(at), digits=8) == code
    assert totp.code_at(RFC_SECRET, at) == code[-6:]


def test_a_totp_code_works_once() -> None:
    secret = totp.secret_generate()
    now = 1_700_000_000
    code = totp.code_at(secret, now)
    step = totp.code_match(secret, code, last_step=0, now=now)
    assert step == totp.step_at(now)
    assert totp.code_match(secret, code, last_step=step, now=now) is None
    assert totp.code_match(secret, "12345", last_step=0, now=now) is None


def test_unknown_and_known_identifiers_fail_alike_and_both_lock() -> None:
    person = citizen()
    answers = {}
    for identifier in (person.identifier, "0000000000"):
        codes = []
        for _ in range(7):
            with pytest.raises(DomainError) as info:
                password_authenticate(identifier=identifier, password="not the password", source="10.0.0.1")
            codes.append((info.value.code, info.value.status))
        answers[identifier] = codes
    # Five free failures, then delays, for an account that exists and for one that does not.
    assert answers[person.identifier] == answers["0000000000"]
    assert answers[person.identifier][:5] == [("sign_in_failed", 401)] * 5
    assert answers[person.identifier][6] == ("too_many_attempts", 429)
    # Even the right password waits out the delay.
    with pytest.raises(DomainError, match="Too many"):
        password_authenticate(identifier=person.identifier, password=PASSWORD, source="10.0.0.2")
    assert AuthEvent.objects.filter(account=person.account, kind="sign_in_failed").count() >= 5


def test_the_sign_in_page_does_not_tell_whether_an_account_exists(client: Client) -> None:
    person = citizen()
    known = client.post("/auth/sign-in", {"identifier": person.identifier, "password": "wrong password"})
    unknown = client.post("/auth/sign-in", {"identifier": "1234567890", "password": "wrong password"})
    assert known.status_code == unknown.status_code == 401

    def strip(response: object, identifier: str) -> str:
        html = response.content.decode().replace(identifier, "")  # type: ignore[attr-defined]
        # The CSRF token and the content security policy's nonce are new on every page.
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|(nonce|data-csrf)="[^"]+"', "", html)

    assert strip(known, person.identifier) == strip(unknown, "1234567890")


def test_activation_codes_are_single_use_and_burn_after_guesses() -> None:
    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    for _ in range(5):
        with pytest.raises(DomainError, match="do not match"):
            account_activate(uin=person.uin, code="AAAA-BBBB-CCCC", password=PASSWORD, source="s")
    with pytest.raises(DomainError):  # the real code is burnt now: back to the counter
        account_activate(uin=person.uin, code=code, password=PASSWORD, source="other")
    fresh = activation_code_issue(uin=person.uin, officer=OFFICER)
    account = account_activate(uin=person.uin, code=fresh.lower(), password=PASSWORD, source="s2")
    assert account.status == Account.Status.ACTIVE and account.proofed_in_person
    with pytest.raises(DomainError, match="do not match"):
        account_activate(uin=person.uin, code=fresh, password=PASSWORD, source="s3")


def test_a_weak_password_is_refused_with_the_reason() -> None:
    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    with pytest.raises(DomainError) as info:
        account_activate(uin=person.uin, code=code, password="password", source="s")
    assert info.value.code == "weak_password" and info.value.field == "password"


def test_the_right_code_with_a_weak_password_is_not_counted_as_a_guess() -> None:
    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    for _ in range(7):
        with pytest.raises(DomainError, match=r"too short|too common"):
            account_activate(uin=person.uin, code=code, password="password", source="s")
    assert account_activate(uin=person.uin, code=code, password=PASSWORD, source="s").status == Account.Status.ACTIVE


def test_no_activation_for_the_dead_and_no_rebinding() -> None:
    from gov21.registry import services as registry

    person = citizen()
    event = registry.event_declare(
        declaration=registry.declaration_parse(
            kind="death", data={"uin": person.identifier, "death_date": "2024-02-02"}
        ),
        actor=OFFICER,
    )
    registry.event_validate(event_id=event.pk, actor=OFFICER)
    registry.event_register(event_id=event.pk, actor=OFFICER)
    person.account.refresh_from_db()
    assert person.account.status == Account.Status.DISABLED and person.account.disabled_reason == "deceased"
    with pytest.raises(Conflict):
        activation_code_issue(uin=person.identifier, officer=OFFICER)
    with pytest.raises(Unauthenticated):
        password_authenticate(identifier=person.identifier, password=PASSWORD, source="s")


def test_recovery_codes_work_once() -> None:
    person = citizen()
    codes = recovery_codes_issue(account=person.account, source="s", auth_time=int(time.time()))
    assert len(set(codes)) == 10
    assert second_factor_verify(account=person.account, code=codes[0], source="s") == "otp"
    with pytest.raises(DomainError):
        second_factor_verify(account=person.account, code=codes[0], source="s")


def test_client_registration_checks_its_input() -> None:
    base = {
        "client_id": "roads",
        "name": "Roads",
        "agency": "Ministry of Works",
        "sector": "works",
        "purpose": "Issue driving licences",
        "redirect_uris": ["https://roads.example/cb"],
        "scopes": ["openid", "profile"],
        "created_by": "t",
    }
    with pytest.raises(DomainError, match="https"):
        client_register(
            **base | {"redirect_uris": ["http://roads.example/cb"]}, auth_method="private_key_jwt", jwks=None
        )
    with pytest.raises(DomainError, match=r"JWKS|public keys"):
        client_register(**base, auth_method="private_key_jwt", jwks={"keys": "nope"})
    with pytest.raises(DomainError, match="Scopes"):
        client_register(**base | {"scopes": ["profile"]}, auth_method="client_secret_basic", jwks=None)
    registered = client_register(**base, auth_method="client_secret_basic", jwks=None)
    assert registered.secret and RelyingParty.objects.get(client_id="roads").secret_hash != registered.secret
    with pytest.raises(Conflict):
        client_register(**base, auth_method="client_secret_basic", jwks=None)


def test_identity_client_add_command(tmp_path: object) -> None:
    from pathlib import Path

    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    jwks_file = Path(str(tmp_path)) / "jwks.json"
    jwks_file.write_text('{"keys": [' + __import__("json").dumps(key.as_dict(private=False)) + "]}")
    out = io.StringIO()
    call_command(
        "identity",
        "client",
        "add",
        "health-portal",
        "--name",
        "Health",
        "--agency",
        "Ministry of Health",
        "--sector",
        "health",
        "--purpose",
        "Book appointments",
        "--redirect-uri",
        "https://health.example/cb",
        "--scope",
        "profile",
        "--jwks-file",
        str(jwks_file),
        stdout=out,
    )
    assert "Registered health-portal" in out.getvalue()
    row = RelyingParty.objects.get(client_id="health-portal")
    assert row.allowed_scopes == ["openid", "profile"] and row.auth_method == "private_key_jwt"
    with pytest.raises(CommandError, match="already registered"):
        call_command(
            "identity",
            "client",
            "add",
            "health-portal",
            "--name",
            "H",
            "--agency",
            "A",
            "--sector",
            "health",
            "--purpose",
            "Book appointments",
            "--redirect-uri",
            "https://h.example/cb",
            "--development-secret",
            stdout=io.StringIO(),
        )
    listing = io.StringIO()
    call_command("identity", "client", "list", stdout=listing)
    assert "health-portal" in listing.getvalue()


def test_the_authenticator_seed_is_sealed_at_rest() -> None:
    from gov21.identity.models import TotpFactor
    from gov21.identity.services import TOTP_SEAL

    person = citizen()
    stored = TotpFactor.objects.get(account=person.account).secret
    assert person.secret not in stored and stored.startswith("v1:")
    assert TOTP_SEAL.open_text(stored, aad=f"totp:{person.account.pk}".encode()) == person.secret
    with pytest.raises(ValueError):
        TOTP_SEAL.open_text(stored, aad=b"totp:999999")  # moved to another account: refused


def test_a_password_change_needs_the_current_password(client: Client) -> None:
    from tests.identity.flows import idp_sign_in

    person = citizen()
    idp_sign_in(client, person)
    wrong = client.post(
        "/auth/account",
        {
            "action": "password_change",
            "current_password": "guess",
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert "Your current password is not right" in wrong.content.decode()
    ok = client.post(
        "/auth/account",
        {
            "action": "password_change",
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "new_password_again": "a new passphrase",
        },
    )
    assert "Your password was changed" in ok.content.decode()
    assert password_authenticate(identifier=person.identifier, password="a new passphrase", source="s")
    assert AuthEvent.objects.filter(account=person.account, kind="password_changed").exists()


def test_the_last_second_factor_cannot_be_removed(client: Client) -> None:
    from tests.identity.flows import idp_sign_in

    person = citizen()
    idp_sign_in(client, person)
    refused = client.post("/auth/account", {"action": "totp_remove"})
    assert "this is your only second factor" in refused.content.decode()
    assert AuthEvent.objects.filter(account=person.account, kind="factor_removed").count() == 0


def test_starting_a_new_authenticator_keeps_the_confirmed_one_until_the_new_one_is_confirmed(client: Client) -> None:
    from tests.identity.flows import idp_sign_in

    person = citizen()
    idp_sign_in(client, person)
    page = client.post("/auth/account", {"action": "totp_start"}).content.decode()
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert match
    new_secret = match.group(1)
    # Started, not confirmed: the app the person has still signs them in.
    assert second_factor_verify(account=person.account, code=person.code(), source="s") == "otp"
    client.post("/auth/account", {"action": "totp_confirm", "code": totp.code_at(new_secret, time.time())})
    with pytest.raises(DomainError):
        second_factor_verify(account=person.account, code=person.code(), source="s")
    replaced = Person(person.identifier, PASSWORD, new_secret, person.account, totp.step_at(time.time()))
    assert second_factor_verify(account=person.account, code=replaced.code(), source="s") == "otp"


def _sign_in_ages(client: Client, seconds: int) -> None:
    """The provider session's sign-in happened ``seconds`` earlier than it did."""
    session = client.session
    signed_in = session["gov21_idp"]
    signed_in["auth_time"] -= seconds
    session["gov21_idp"] = signed_in
    session.save()


def test_removing_a_way_to_sign_in_needs_a_recent_sign_in(client: Client) -> None:
    from django.utils import timezone

    from gov21.identity.models import Passkey, RecoveryCode, TotpFactor
    from tests.identity.flows import idp_sign_in

    person = citizen()
    recovery_codes_issue(account=person.account, source="s", auth_time=int(time.time()))
    codes_before = set(RecoveryCode.objects.filter(account=person.account).values_list("code_hash", flat=True))
    # A second factor beside the app, so that removing either is otherwise allowed. Its key is
    # never used here: only the removal is tried.
    passkey = Passkey.objects.create(
        account=person.account, credential_id="dGVzdA", public_key=b"-", name="Phone", created_at=timezone.now()
    )
    idp_sign_in(client, person)
    _sign_in_ages(client, 10 * 60)  # a session left open on a shared computer
    for form in (
        {"action": "passkey_remove", "passkey": str(passkey.pk)},
        {"action": "totp_remove"},
        {"action": "recovery_codes"},
    ):
        page = client.post("/auth/account", form).content.decode()
        assert "prove it is you again" in page and 'id="reauthenticate"' in page, form
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    assert TotpFactor.objects.filter(account=person.account, confirmed_at__isnull=False).exists()
    assert set(RecoveryCode.objects.filter(account=person.account).values_list("code_hash", flat=True)) == codes_before

    # Proving it again with the app is enough.
    assert client.post("/auth/verify", {"code": person.code(), "next": "/auth/account"}).status_code == 302
    page = client.post("/auth/account", {"action": "passkey_remove", "passkey": str(passkey.pk)}).content.decode()
    assert "The passkey was removed." in page
    assert not Passkey.objects.filter(pk=passkey.pk).exists()
    assert AuthEvent.objects.filter(account=person.account, kind="factor_removed", tell=True).exists()


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("eleven char", False),  # 11: below the floor of 12
        ("twelve chars", True),
        ("🌴 " * 32, True),  # 64 characters of any kind, spaces and emoji included
        ("x" * 100 + " palm tree harbour lantern", True),  # 126
        ("y" * 129, False),  # above the ceiling of 128
    ],
)
def test_passwords_from_12_to_128_characters_of_any_kind_are_accepted(password: str, accepted: bool) -> None:
    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    if accepted:
        account = account_activate(uin=person.uin, code=code, password=password, source="s")
        assert account.user.check_password(password)
        assert not account.user.check_password(password[:-1])  # nothing is truncated
    else:
        with pytest.raises(DomainError) as info:
            account_activate(uin=person.uin, code=code, password=password, source="s")
        assert info.value.code == "weak_password" and info.value.field == "password"
