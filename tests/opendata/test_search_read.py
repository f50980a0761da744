"""``opendata/search_read.py``: an anonymous ``GET`` of ``package_search`` answered before the session
and the URL resolver. What a client sees must not change: the same status, bytes and headers as the
full stack gives, refusals included, in the client's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from gov21.core.principal import Principal, PrincipalKind
from gov21.identity.services import token_create
from gov21.opendata import services

pytestmark = pytest.mark.django_db
FAST = "gov21.opendata.search_read.SearchReadMiddleware"
WITHOUT_FAST = [m for m in settings.MIDDLEWARE if m != FAST]
VARYING = {"X-Request-Id"}
PUBLISHER = Principal(name="p", kind=PrincipalKind.STAFF, roles=frozenset({"registrar"}))


def _catalogue() -> None:
    for i, word in enumerate(("births", "roads", "births and deaths")):
        services.package_create(
            principal=PUBLISHER,
            data={"name": f"d-{i}", "title": word.capitalize(), "owner_org": "STATS", "tags": [word.split()[0]]},
        )


def _both(path: str, **headers: str) -> tuple[Any, Any]:
    fast = Client(headers=headers).get(path)
    with override_settings(MIDDLEWARE=WITHOUT_FAST):
        full = Client(headers=headers).get(path)
    return fast, full


def _same(fast: Any, full: Any) -> None:
    assert fast.status_code == full.status_code, (fast.content, full.content)
    assert fast.content == full.content
    strip = lambda r: {k: v for k, v in r.headers.items() if k not in VARYING}  # noqa: E731
    assert strip(fast) == strip(full)


def test_middleware_sits_after_the_admission_gate_and_the_person_read() -> None:
    order = settings.MIDDLEWARE
    assert order.index(FAST) == order.index("gov21.registry.person_read.PersonReadMiddleware") + 1
    assert order.index(FAST) > order.index("gov21.core.capacity.AdmissionMiddleware")


@pytest.mark.parametrize(
    "query",
    [
        "q=births&facet.field=%5B%22organization%22%2C%22tags%22%5D&rows=2",
        "q=births&start=1&sort=name%20desc",
        "fq=tags:roads",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/api/3/action/package_search", "/api/action/package_search"])
def test_searches_answer_exactly_as_the_whole_stack(path: str, query: str) -> None:
    _catalogue()
    fast, full = _both(f"{path}?{query}")
    assert fast.status_code == 200
    assert fast.json()["success"] is True
    _same(fast, full)


@pytest.mark.parametrize(
    "query",
    ["rows=-1", "sort=shoe%20size", "facet.field=tags", "fq=colour:red", "rows=x", "facet.field=%5B%22nope%22%5D"],
)
def test_refusals_are_the_same_and_in_the_callers_language(query: str) -> None:
    _catalogue()
    fast, full = _both(f"/api/3/action/package_search?{query}", **{"Accept-Language": "fr"})
    assert fast.status_code in {400, 409}
    assert fast.json()["success"] is False
    assert fast["Content-Language"] == "fr"
    _same(fast, full)


def test_a_search_with_a_token_goes_through_the_whole_stack_and_sees_the_same_catalogue() -> None:
    _catalogue()
    token = token_create(name="p", role="registrar", lifetime=timedelta(hours=1), created_by="test").token
    anonymous = Client().get("/api/3/action/package_search?q=births")
    signed = Client(headers={"Authorization": token}).get("/api/3/action/package_search?q=births")
    assert anonymous.json()["result"] == signed.json()["result"]
    assert "Cookie" in signed["Vary"]


def test_other_actions_and_posts_are_left_to_the_whole_stack() -> None:
    _catalogue()
    for fast, full in (_both("/api/3/action/package_list"), _both("/api/3/action/package_search/")):
        _same(fast, full)
    posted = Client().post("/api/3/action/package_search", {"q": "births"})
    assert posted.status_code == 200
    assert posted.json()["result"]["count"] == 2
