"""The authorisation matrix: every URL pattern of gov21 (from Django's resolver), every operation of
the platform's API (from its OpenAPI document) and every operation of every exchange service (from
the OpenAPI documents in the directory), times every kind of caller, each cell a real request that
names citizen A's real records. Allowed cells must get through the gate; refused ones get 401, 403,
404 or the sign-in page, show nothing of A, and change nothing.

The policy is declared in ``policy.py``; a surface without an entry fails the completeness tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

from gov21.exchange.contracts import exchange_call
from tests.security import policy
from tests.security.world import ROLES, World, data_state, world_fixture

world = pytest.fixture(scope="module")(world_fixture)

ROOT = Path(__file__).resolve().parents[2]

# Cells where gov21 does not yet do what the policy says, because the change is being made in the
# exchange, identity, OpenID Connect or deployment code. Each is a strict xfail: once fixed, the cell
# passes, the xfail fails, and its line is removed from this list.
# (surface, method or "*", roles or "*", why)
OPEN_FINDINGS: list[tuple[str, str, str | frozenset[str], str]] = []


def _open(surface: str, method: str, role: str) -> str | None:
    for name, m, roles, why in OPEN_FINDINGS:
        if name == surface and m in ("*", method) and (roles == "*" or role in roles):
            return why
    return None


def _marks(surface: str, method: str, role: str) -> list[Any]:
    why = _open(surface, method, role)
    return [pytest.mark.xfail(strict=True, reason=why)] if why else []


# --- what gov21 serves ----------------------------------------------------------------------------


def url_patterns(patterns: Iterable[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the resolver, as its full pattern string; the admin site collapses to one."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("django-admin/"):
            if prefix == "":
                yield "django-admin/*"
            continue
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def _api_route(route: str) -> str:
    """An API route of the resolver as its OpenAPI path (``<uin>`` is ``{uin}``)."""
    return "/" + route.replace("<", "{").replace(">", "}")


def uncovered(routes: Iterable[str], operations: Iterable[tuple[str, str]]) -> list[str]:
    """Routes with no policy entry (API routes are covered by an entry for one of their operations)."""
    api_paths = {path for _, path in operations}
    missing = []
    for route in routes:
        if route in policy.URLS:
            continue
        if route.startswith("api/v1/") and _api_route(route) in api_paths:
            continue
        missing.append(route)
    return sorted(set(missing))


def stale(routes: Iterable[str]) -> list[str]:
    """Entries whose route is gone (a ``gone`` entry may be: it must answer 404)."""
    present = set(routes)
    return sorted(key for key, rule in policy.URLS.items() if key not in present and not rule.gone)


def api_operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, methods in schema["paths"].items() for method in methods}


def _live_api_schema() -> dict[str, Any]:
    from gov21.api import api

    return dict(api.get_openapi_schema())


# --- completeness ---------------------------------------------------------------------------------


def test_every_url_pattern_has_a_policy_entry() -> None:
    routes = list(url_patterns())
    assert len(routes) > 80
    assert uncovered(routes, policy.API) == []
    assert stale(routes) == []


def test_a_new_pattern_without_an_entry_fails_the_completeness_check() -> None:
    from django.urls import path

    fake = path("office/registry/export-everyone", lambda request: HttpResponse("all persons"))
    routes = list(url_patterns([*get_resolver().url_patterns, fake]))
    assert uncovered(routes, policy.API) == ["office/registry/export-everyone"]
    fake_api = path("api/v1/registry/persons/<uin>/everything", lambda request, uin: HttpResponse(uin))
    routes = list(url_patterns([*get_resolver().url_patterns, fake_api]))
    assert uncovered(routes, policy.API) == ["api/v1/registry/persons/<uin>/everything"]


def test_every_api_operation_has_a_policy_entry() -> None:
    live = api_operations(_live_api_schema())
    committed = api_operations(json.loads((ROOT / "docs" / "openapi.json").read_text()))
    declared = set(policy.API)
    assert live - declared == set(), "operations without a policy entry"
    assert committed - declared == set()
    assert declared - live == set(), "policy entries for operations gov21 does not serve"


def test_an_api_operation_without_an_entry_fails_the_completeness_check() -> None:
    schema = _live_api_schema()
    schema["paths"]["/api/v1/registry/persons/{uin}/everything"] = {"get": {}}
    assert api_operations(schema) - set(policy.API) == {("GET", "/api/v1/registry/persons/{uin}/everything")}


def exchange_operations() -> set[tuple[str, str, str]]:
    """Every operation of every service in the directory, from the OpenAPI document it publishes."""
    from gov21.exchange.models import Service

    ops = set()
    for service in Service.objects.select_related("subsystem__member"):
        tail = f"{service.subsystem.member.code}/{service.subsystem.code}/{service.code}"
        for path, methods in (service.openapi or {}).get("paths", {}).items():
            ops |= {(tail, method.upper(), path) for method in methods}
    return ops


def test_every_exchange_operation_has_a_policy_entry(world: World, db: None) -> None:
    ops = exchange_operations()
    assert len(ops) > 20
    assert ops - set(policy.EXCHANGE) == set(), "exchange operations without a policy entry"
    assert set(policy.EXCHANGE) - ops == set(), "policy entries for operations no service publishes"


# --- the cells ------------------------------------------------------------------------------------

_SIGN_IN = {"/sign-in", "/auth/sign-in"}
_REFUSED = {401, 403, 404}


def _to_sign_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path in _SIGN_IN


def _leaks(world: World, body: bytes, url: str = "") -> list[str]:
    """A's name or UIN in an answer, unless the caller put it in the request (an echo tells nothing)."""
    text = body.decode("utf-8", "replace")
    return [secret for secret in world.secrets_of_a() if secret in text and secret not in url]


def _request(
    world: World, role: str, method: str, url: str, data: dict[str, Any], *, json_body: bool, client: Any = None
) -> Any:
    client = client or world.client(role)
    headers = world.headers(role)
    if method == "GET":
        return client.get(url, **headers)
    if json_body:
        return client.post(url, orjson.dumps(data), content_type="application/json", **headers)
    return client.post(url, data, **headers)


def _url_cells() -> Iterator[Any]:
    for key, rule in policy.URLS.items():
        for method, allowed in (("GET", rule.get), ("POST", rule.post)):
            if allowed is None:
                continue
            for role in ROLES:
                yield pytest.param(key, method, role, id=f"{method} /{key} as {role}", marks=_marks(key, method, role))


@pytest.mark.parametrize(("key", "method", "role"), list(_url_cells()))
def test_url_cell(world: World, db: None, key: str, method: str, role: str) -> None:
    rule = policy.URLS[key]
    allowed = (rule.get if method == "GET" else rule.post) or frozenset()
    sees = rule.sees if rule.sees is not None else (rule.get or frozenset()) | allowed
    for url in rule.urls(world):
        client = world.client(role)
        if rule.opens_case:
            client.post(
                f"/office/cases/{world.a_application}", {"purpose": "checking the renewal"}, **world.headers(role)
            )
        before = data_state() if method == "POST" and role not in allowed else None
        response = _request(world, role, method, url, rule.data(world), json_body=False, client=client)
        status = response.status_code
        if status == 302 and role not in allowed and not _to_sign_in(response):
            # Sent on to the page the change starts from (a case is worked only once opened): that
            # page must refuse in its turn.
            response = client.get(response["Location"], **world.headers(role))
            status = response.status_code
        if rule.gone:
            assert status == 404, f"{method} {url} as {role}: {status}, must not be served here"
        elif role in allowed:
            passed = status < 400 or status in rule.ok
            gated = allowed != policy.EVERYONE and _to_sign_in(response)
            assert passed and not gated, f"{method} {url} as {role} should be let in, got {status}"
        else:
            refused = _REFUSED | rule.refused
            assert status in refused or _to_sign_in(response), f"{method} {url} as {role} got {status}"
            assert role == "citizen" or role in sees or _leaks(world, response.content, url) == [], (
                f"{method} {url} as {role} shows A's data"
            )
            if before is not None:
                assert data_state() == before, f"{method} {url} as {role} changed data"
        if role == "other_citizen":
            assert _leaks(world, response.content, url) == [], f"{method} {url} shows A's data to another citizen"


def _api_cells() -> Iterator[Any]:
    for (method, path), _op in policy.API.items():
        for role in ROLES:
            yield pytest.param(method, path, role, id=f"{method} {path} as {role}", marks=_marks(path, method, role))


@pytest.mark.parametrize(("method", "path", "role"), list(_api_cells()))
def test_api_cell(world: World, db: None, method: str, path: str, role: str) -> None:
    op = policy.API[(method, path)]
    for url in op.urls(world):
        before = data_state() if method == "POST" and role not in op.allowed else None
        response = _request(world, role, method, url, op.body(world), json_body=True)
        status = response.status_code
        if role in op.allowed:
            assert status < 400 or status in op.ok, f"{method} {url} as {role}: {status} {response.content[:300]!r}"
            assert status not in (401, 403), f"{method} {url} as {role} was refused"
        else:
            assert status in _REFUSED, f"{method} {url} as {role} got {status}"
            assert response["Content-Type"] == "application/problem+json"
            sees = op.sees or frozenset()
            assert role == "citizen" or role in sees or _leaks(world, response.content, url) == [], (
                f"{method} {url} as {role} shows A's data"
            )
            if before is not None:
                assert data_state() == before, f"{method} {url} as {role} changed data"


def _exchange_cells() -> Iterator[Any]:
    for (service, method, path), _op in policy.EXCHANGE.items():
        for client in policy.EXCHANGE_CLIENTS:
            yield pytest.param(service, method, path, client, id=f"{method} {service}{path} by {client}", marks=[])


def _call(world: World, client: str, service: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return exchange_call(
        client=f"{world.instance}/GOV/{client}",
        service=f"{world.instance}/GOV/{service}",
        path=path,
        method=method,
        body=orjson.dumps(body) if body is not None else b"",
        content_type="application/json" if body is not None else "",
        issue="authorisation matrix",
    )


@pytest.mark.parametrize(("service", "method", "path", "client"), list(_exchange_cells()))
def test_exchange_cell(world: World, db: None, service: str, method: str, path: str, client: str) -> None:
    op = policy.EXCHANGE[(service, method, path)]
    before = data_state() if method != "GET" and client not in op.allowed else None
    result = _call(world, client, service, method, op.path(world), op.body(world))
    # X-Road answers its own refusals with status 500 and the error type in X-Road-Error.
    denied = result.error.endswith("AccessDenied")
    if client in op.allowed:
        assert not denied, f"{client} has the right to {method} {path} on {service}: {result.body[:300]!r}"
        assert result.status < 500, f"{method} {service}{path} by {client}: {result.status} {result.body[:300]!r}"
    else:
        assert denied, f"{client} has no right to {method} {path} on {service}, got {result.status}"
        error = result.json()
        assert set(error) >= {"type", "message"} and error["type"].endswith("AccessDenied")
        assert _leaks(world, result.body, op.path(world)) == []
        if before is not None:
            assert data_state() == before


# --- cells about what an allowed call does --------------------------------------------------------


def test_end_session_without_id_token_hint_does_not_sign_out_on_get(world: World, db: None) -> None:
    client = world.client("citizen")
    client.get("/oidc/end-session")
    assert client.get("/my/").status_code == 200, "a link or image on any site could sign the person out"


def test_an_address_change_without_the_persons_assertion_is_not_registered_at_once(world: World, db: None) -> None:
    from gov21.registry.models import Person

    result = exchange_call(
        client=f"{world.instance}/GOV/PORTAL/services",
        service=f"{world.instance}/GOV/CRO/civil-registry/declarations",
        path="/address_change",
        method="POST",
        body=orjson.dumps({"uin": world.a.identifier, "date": "2026-12-01", "parish": "XA-05", "line": "9 Far Away"}),
        content_type="application/json",
        user_id=world.a.identifier,
        issue="change of address",
    )
    assert result.status == 201, result.body
    assert (result.json() or {}).get("state") != "registered"
    assert Person.objects.get(uin=world.a.identifier).address_parish != "XA-05"


def test_a_certified_copy_without_the_persons_assertion_is_refused_and_the_original_stays_valid(
    world: World, db: None
) -> None:
    from gov21.registry.models import Certificate

    result = _call(world, "PORTAL/services", "CRO/civil-registry/copies", "POST", "/", {"number": world.birth_number})
    assert result.status == 403, result.body
    original = Certificate.objects.get(serial=world.certificate_serial)
    assert original.status == "valid", "the citizen's own certificate stops verifying when an agency orders a copy"
