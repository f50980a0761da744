"""A citizen sees and answers only what is theirs; every form that changes something needs the
session's CSRF token; only administrators change service definitions."""

from __future__ import annotations

from typing import Any

import pytest

from gov21.onestop.models import Application, Offer, ServiceDefinition
from tests.security import policy
from tests.security.world import World, data_state, world_fixture

world = pytest.fixture(scope="module")(world_fixture)


def _names(world: World, body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [secret for secret in world.secrets_of_a() if secret in text]


@pytest.mark.parametrize("which", ["a_document", "a_certificate_document"])
def test_another_citizens_document_is_not_found(world: World, db: None, which: str) -> None:
    serial = getattr(world, which)
    own = world.client("citizen").get(f"/my/documents/{serial}")
    assert own.status_code == 200 and world.a_family in own.content.decode()
    other = world.client("other_citizen")
    response = other.get(f"/my/documents/{serial}")
    assert response.status_code == 404
    assert _names(world, response.content) == []
    pdf = other.get(f"/my/documents/{serial}/pdf")
    assert pdf.status_code == 404 and not pdf.content.startswith(b"%PDF")
    assert _names(world, pdf.content) == []


def test_a_citizens_own_document_pdf_is_hers(world: World, db: None) -> None:
    pdf = world.client("citizen").get(f"/my/documents/{world.a_document}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_another_citizens_offer_is_neither_shown_nor_answered(world: World, db: None) -> None:
    other = world.client("other_citizen")
    page = other.get(f"/my/offers/{world.a_offer}")
    assert page.status_code == 404 and _names(world, page.content) == []
    applications = Application.objects.count()
    for answer in ("accept", "decline"):
        response = other.post(f"/my/offers/{world.a_offer}", {"answer": answer})
        assert response.status_code == 404, (answer, response.status_code)
        assert _names(world, response.content) == []
    offer = Offer.objects.get(pk=world.a_offer)
    assert offer.state == Offer.State.OPEN and offer.uin == world.a.identifier
    assert Application.objects.count() == applications
    # The offer is still there for its owner.
    assert world.client("citizen").get(f"/my/offers/{world.a_offer}").status_code == 200


def test_another_citizens_application_is_not_found_on_any_of_its_pages(world: World, db: None) -> None:
    other = world.client("other_citizen")
    for suffix in ("", "/consent", "/check", "/pay", "/paid", "/q/health"):
        response = other.get(f"/apply/{world.a_application}{suffix}")
        assert response.status_code == 404, (suffix, response.status_code)
        assert _names(world, response.content) == []
    assert other.get(f"/my/applications/{world.a_application}").status_code == 404


# --- CSRF -----------------------------------------------------------------------------------------

# Endpoints that are not HTML forms of a signed-in session: machine protocols whose callers
# authenticate otherwise (OpenID Connect clients, nodes of the exchange), refused here on other grounds;
# and the STAC item search, a public read sent as JSON that changes nothing.
NOT_FORMS = frozenset({"oidc/token", "oidc/revoke", "oidc/introspect", "exchange/directory/join", "stac/search"})


def _form_cells() -> list[Any]:
    cells = []
    for key, rule in policy.URLS.items():
        if rule.post is None or rule.gone or key in NOT_FORMS or not rule.post:
            continue
        # A caller who may send the form: its owner, or staff of the right role.
        role = sorted(rule.post - {"anonymous", "token_reader", "token_registrar"} or rule.post)[0]
        cells.append(pytest.param(key, role, id=f"POST /{key} as {role}"))
    return cells


@pytest.mark.parametrize(("key", "role"), _form_cells())
def test_a_form_post_without_the_csrf_token_is_refused(world: World, db: None, key: str, role: str) -> None:
    rule = policy.URLS[key]
    client = world.client(role, enforce_csrf_checks=True)
    before = data_state()
    for url in rule.urls(world):
        response = client.post(url, rule.data(world))
        assert response.status_code == 403, f"POST {url} as {role} without a CSRF token: {response.status_code}"
    assert data_state() == before


def test_a_form_post_with_the_csrf_token_gets_through(world: World, db: None) -> None:
    """The refusal above is the token's doing: the same post with the session's token is let in."""
    client = world.client("citizen", enforce_csrf_checks=True)
    token = world.cookies["citizen"]["csrftoken"]
    response = client.post(f"/my/offers/{world.a_offer}", {"answer": "decline", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Offer.objects.get(pk=world.a_offer).state == Offer.State.DECLINED


# --- the service-definition editor ----------------------------------------------------------------


def _edited(world: World) -> str:
    source = world.client("administrator").get("/office/services/renew-driving-licence").content.decode()
    assert "renew-driving-licence" in source
    from gov21.onestop import definitions

    current = ServiceDefinition.objects.get(code="renew-driving-licence", active=True)
    data = dict(current.definition)
    data["summary"] = {**data["summary"], "en": "Renew your licence for 10 years, at once when the registries agree."}
    data["version"] = int(data.get("version", 1)) + 1
    return definitions.definition_dump(data)


@pytest.mark.parametrize("role", [*sorted(policy.STAFF - {"administrator"}), "citizen", "token_registrar"])
def test_only_an_administrator_changes_a_service_definition(world: World, db: None, role: str) -> None:
    source = _edited(world)
    versions = ServiceDefinition.objects.filter(code="renew-driving-licence").count()
    response = world.client(role).post(
        "/office/services/renew-driving-licence", {"definition": source}, **world.headers(role)
    )
    assert response.status_code in (302, 403), response.status_code
    if response.status_code == 302:
        assert response["Location"].startswith("/sign-in"), response["Location"]
    assert ServiceDefinition.objects.filter(code="renew-driving-licence").count() == versions
    assert world.client(role).get("/office/services/", **world.headers(role)).status_code in (302, 403)


def test_an_administrator_changes_a_service_definition(world: World, db: None) -> None:
    source = _edited(world)
    versions = ServiceDefinition.objects.filter(code="renew-driving-licence").count()
    response = world.client("administrator").post("/office/services/renew-driving-licence", {"definition": source})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert "saved=" in response["Location"]
    assert ServiceDefinition.objects.filter(code="renew-driving-licence").count() == versions + 1
