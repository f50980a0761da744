"""The one gate of the back-office pages (``core.office``), on a page of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from gov21.core import office
from gov21.core.errors import Conflict, DomainError
from gov21.core.principal import Principal, PrincipalKind

CLERK = Principal(name="clerk.one", kind=PrincipalKind.STAFF, roles=frozenset({"clerk"}))
NO_ROLE = Principal(name="nobody", kind=PrincipalKind.STAFF, roles=frozenset())
refusals: list[tuple[Principal | None, str | None]] = []


def _refuse(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    refusals.append((principal, permission))
    return HttpResponse("refused here", status=403)


DOOR = office.Office(home="registry:queue", home_label="Back to the queue", refuse=_refuse)


@DOOR.page("event.declare")
def declare(request: HttpRequest, principal: Principal, number: int) -> HttpResponse:
    if number == 409:
        raise Conflict("already_done", "This was done already.")
    if number == 422:
        raise DomainError("bad_input", "This is not a number we know.")
    return HttpResponse(f"{principal.name} may declare {number}")


@DOOR.page()
def any_role(request: HttpRequest, principal: Principal) -> HttpResponse:
    return HttpResponse("in")


@pytest.fixture
def caller() -> Iterator[list[Principal | None]]:
    """Who the registered source says is calling; the source identity registered is put back after."""
    who: list[Principal | None] = [CLERK]
    saved = list(office._SOURCES)
    office.principal_source_register(lambda request: who[0])
    refusals.clear()
    yield who
    office._SOURCES[:] = saved


def _request(*, signed_in: bool = True) -> HttpRequest:
    request = RequestFactory().get("/office/registry/declare?x=1")
    request.user = User(username="clerk.one") if signed_in else AnonymousUser()
    request.session = {}  # type: ignore[assignment]
    return request


def test_a_visitor_is_sent_to_sign_in_and_back(caller: list[Principal | None]) -> None:
    response = declare(_request(signed_in=False), 1)

    assert response.status_code == 302
    assert response["Location"].endswith("?next=/office/registry/declare%3Fx%3D1")
    assert refusals == []


def test_a_permitted_caller_gets_the_page_with_their_principal(caller: list[Principal | None]) -> None:
    response = declare(_request(), 7)

    assert response.status_code == 200 and response.content == b"clerk.one may declare 7"


def test_a_caller_without_the_permission_gets_the_offices_refusal(caller: list[Principal | None]) -> None:
    caller[0] = Principal(name="reader.one", kind=PrincipalKind.STAFF, roles=frozenset({"reader"}))

    response = declare(_request(), 7)

    assert response.status_code == 403 and response.content == b"refused here"
    assert refusals == [(caller[0], "event.declare")]


def test_a_session_the_source_does_not_trust_is_refused(caller: list[Principal | None]) -> None:
    caller[0] = None

    assert declare(_request(), 7).status_code == 403
    assert refusals == [(None, "event.declare")]


def test_a_page_without_a_permission_lets_in_any_role_and_no_one_without(caller: list[Principal | None]) -> None:
    assert any_role(_request()).content == b"in"
    caller[0] = NO_ROLE
    assert any_role(_request()).status_code == 403
    assert refusals == [(NO_ROLE, None)]


@pytest.mark.parametrize(
    ("number", "title", "detail"),
    [(409, "This cannot be done now", "This was done already."), (422, "There is a problem", "not a number we know")],
)
def test_a_domain_error_is_one_problem_page(
    caller: list[Principal | None], number: int, title: str, detail: str
) -> None:
    response = declare(_request(), number)
    page = response.content.decode()

    assert response.status_code == number
    assert f"<h1>{title}</h1>" in page and detail in page
    assert '<a href="/office/registry/">Back to the queue</a>' in page


def test_without_a_registered_source_the_gate_says_so(caller: list[Principal | None]) -> None:
    office._SOURCES.clear()

    with pytest.raises(ImproperlyConfigured, match="No app registered"):
        declare(_request(), 1)
