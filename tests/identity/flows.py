"""Helpers that make accounts through the real services and sign in through the real protocol."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from gov21.core.principal import Principal
from gov21.identity import totp
from gov21.identity.models import Account
from gov21.identity.services import (
    account_activate,
    activation_code_issue,
    staff_create,
    totp_enrol_begin,
    totp_enrol_confirm,
)
from gov21.portal import rp
from tests.registry.factories import register_person

PASSWORD = "correct horse battery"
OFFICER = Principal(name="counter.officer", kind="staff", roles=frozenset({"registrar"}))


@dataclass
class Person:
    identifier: str
    password: str
    secret: str
    account: Account
    step: int = 0

    def code(self) -> str:
        """A TOTP code from a step never used before (the provider refuses a reused code)."""
        self.step = max(self.step + 1, totp.step_at(time.time()) - 1)
        return totp.hotp(totp._key(self.secret), self.step)


def citizen(**person_fields: object) -> Person:
    """A registered person with an activated account and an authenticator app."""
    person = register_person(OFFICER, **person_fields)  # type: ignore[arg-type]
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    account = account_activate(uin=person.uin, code=code, password=PASSWORD, source="test")
    return with_totp(Person(person.uin, PASSWORD, "", account))


def staff(username: str, *roles: str) -> Person:
    user = staff_create(username=username, password=PASSWORD, roles=list(roles))
    account = Account.objects.get(user_id=user.pk)
    return with_totp(Person(username, PASSWORD, "", account))


def with_totp(person: Person) -> Person:
    person.secret = totp_enrol_begin(account=person.account)
    person.step = totp.step_at(time.time()) - 2
    totp_enrol_confirm(account=person.account, code=person.code(), source="test")
    return person


def idp_sign_in(client: Client, person: Person) -> None:
    """Sign in at the identity provider with password and authenticator code."""
    response = client.post("/auth/sign-in", {"identifier": person.identifier, "password": person.password})
    assert response.status_code == 302 and response["Location"].startswith("/auth/verify"), response
    response = client.post("/auth/verify", {"code": person.code(), "next": "/auth/account"})
    assert response.status_code == 302, response.content.decode()[:2000]


class _InProcessProvider(WSGIHandler):
    """The provider answering the portal's back-channel calls inside the test process.

    It shares the test's database connection; a real server closes its connection around each
    request, which here would close the test's own (Django's test client avoids it the same way)."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            body = b"".join(response)
            response.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def portal_sign_in(client: Client, person: Person, next_url: str = "/my/", *, production: bool = False) -> None:
    """The whole portal sign-in through OpenID Connect, the token call going through the real WSGI app:
    in the test's own thread and transaction, or with ``production`` the way the deployment is
    configured to reach its provider (which cannot see a test's transaction)."""
    if not production:
        rp.TRANSPORT = httpx2.WSGITransport(app=_InProcessProvider())
    try:
        response = client.get("/sign-in", {"next": next_url})
        for _ in range(12):
            assert response.status_code in (200, 302), response.content.decode()[-1200:]
            if response.status_code == 200:
                page = response.content.decode()
                if 'name="decision"' in page:  # the consent page
                    url = response.wsgi_request.get_full_path()
                    response = client.post(url, {"decision": "allow"})
                    continue
                raise AssertionError(f"unexpected page: {page[:500]}")
            location = response["Location"]
            path = urlsplit(location)
            if path.path == "/auth/sign-in":
                response = client.post(
                    "/auth/sign-in",
                    {"identifier": person.identifier, "password": person.password, **_next(location)},
                )
            elif path.path == "/auth/verify":
                response = client.post("/auth/verify", {"code": person.code(), **_next(location)})
            elif location == next_url or path.path == next_url:
                return
            else:
                response = client.get(location.replace("http://testserver", "").replace(rp.issuer(), ""))
        raise AssertionError("the sign-in did not finish")
    finally:
        if not production:
            rp.TRANSPORT = None


def _next(location: str) -> dict[str, str]:
    query = parse_qs(urlsplit(location).query)
    return {key: values[0] for key, values in query.items() if key in ("next", "level")}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def citizen_of(uin: str) -> Person:
    """An activated account, with an authenticator app, for a person already in the registry."""
    code = activation_code_issue(uin=uin, officer=OFFICER)
    account = account_activate(uin=uin, code=code, password=PASSWORD, source="test")
    return with_totp(Person(uin, PASSWORD, "", account))


def portal_tokens(person: Person, next_url: str = "/my/") -> dict[str, Any]:
    """Sign ``person`` in to the portal through OpenID Connect; the tokens the portal keeps for them
    (access token, refresh token, expiry), as a page they act on would find them."""
    from gov21.identity.contracts import PORTAL_SESSION_KEY

    client = Client()
    portal_sign_in(client, person, next_url)
    tokens: dict[str, Any] = client.session[PORTAL_SESSION_KEY]["tokens"]
    assert tokens["access_token"], "the portal kept no access token"
    return tokens


def access_token_of(person: Person) -> str:
    """A live access token of ``person``, issued by the provider in a real portal sign-in."""
    return str(portal_tokens(person)["access_token"])
