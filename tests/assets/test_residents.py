"""The residents of a disaster's area: counts by default, names only for an officer whose role allows
it and who states a lawful purpose and a reason; every person named sees the disaster management
office, the purpose and the officer among the uses of their data. Through the real sign-in, the real
exchange and the civil registry's own service."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.assets import selectors, services
from gov21.assets.models import DisasterEvent, ResidentsListing
from gov21.assets.records import EventFacts
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.exchange.contracts import data_uses_for
from gov21.exchange.models import LogEntry
from tests.assets.factories import OFFICER, READER
from tests.identity.flows import portal_sign_in, staff
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
# Around Port Clement and Belvedere (parish XA-01), clear of every other settlement.
AREA = {
    "type": "Polygon",
    "coordinates": [[[-63.14, 14.22], [-63.10, 14.22], [-63.10, 14.245], [-63.14, 14.245], [-63.14, 14.22]]],
}
REASON = "Checking on the elderly and the young after the flood"


def _declare() -> DisasterEvent:
    return services.disaster_declare(
        facts=EventFacts(name="Flood Bea", kind="flood", occurred_on=date(2026, 9, 1)),
        area=services.area_parse(json.dumps(AREA)),
        actor=OFFICER,
    )


def _born(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=30)


@pytest.fixture
def people() -> dict[str, str]:
    """Residents of Port Clement (a household of a grandmother and a baby, and one more), of
    Belvedere (inside the area too), and of Rosehall (in the same parish, outside the area)."""
    made = {
        "grandmother": register_person(REGISTRAR, given="Rose", family="Auguste", born=_born(82),
                                       address_parish="XA-01", address_settlement="Port Clement",
                                       address_line="3 Harbour Street"),
        "baby": register_person(REGISTRAR, given="Lili", family="Auguste", born=_born(1), address_parish="XA-01",
                                address_settlement="Port Clement", address_line="3 Harbour Street"),
        "neighbour": register_person(REGISTRAR, given="Marc", family="Bellot", born=_born(45),
                                     address_parish="XA-01", address_settlement="Port Clement",
                                     address_line="5 Harbour Street"),
        "belvedere": register_person(REGISTRAR, given="Ines", family="Charles", address_parish="XA-01",
                                     address_settlement="Belvedere", address_line="1 Ridge Road"),
        "outside": register_person(REGISTRAR, given="Paul", family="Dorval", address_parish="XA-01",
                                   address_settlement="Rosehall", address_line="2 Cane Walk"),
    }  # fmt: skip
    return {key: person.uin for key, person in made.items()}


def _login(client: Client, *roles: str, username: str) -> Client:
    portal_sign_in(client, staff(username, *roles), next_url="/office/disasters/")
    return client


def _state(client: Client, event: DisasterEvent, **overrides: str) -> object:
    form = {"purpose": "welfare_check", "reason": REASON, "place": "XA-01/Port Clement", **overrides}
    return client.post(f"/office/disasters/{event.pk}/residents", form)


# --- the services and selectors -------------------------------------------------------------------


def test_counts_name_nobody_and_stay_the_default(people: dict[str, str]) -> None:
    event = _declare()

    impact = selectors.event_impact(event=event, actor=READER)

    assert {(p.settlement, p.residents) for p in impact.settlements} == {("Port Clement", 3), ("Belvedere", 1)}
    assert all(data_uses_for(subject=uin) == [] for uin in people.values())


def test_a_settlement_is_named_for_a_stated_purpose_and_each_person_sees_it(people: dict[str, str]) -> None:
    event = _declare()
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="welfare_check", reason=REASON, place="XA-01/Port Clement", actor=OFFICER
    )

    named = selectors.residents_named(listing=listing, page=1, actor=OFFICER)

    by_uin = {r.uin: r for r in named.residents}
    assert set(by_uin) == {people["grandmother"], people["baby"], people["neighbour"]}
    assert named.total == 3 and named.pages == 1
    assert by_uin[people["grandmother"]].aged_75_plus and by_uin[people["baby"]].child_under_5
    assert by_uin[people["grandmother"]].household == by_uin[people["baby"]].household
    assert by_uin[people["baby"]].household_size == 2 and by_uin[people["neighbour"]].household_size == 1
    for uin in by_uin:
        [use] = data_uses_for(subject=uin)
        assert use["client"].endswith("/GOV/NDMO/disaster-response")
        assert use["purpose"].startswith(f"Welfare check: {REASON} (disaster {event.pk}")
        assert use["user_id"] == OFFICER.name
    assert data_uses_for(subject=people["outside"]) == [] and data_uses_for(subject=people["belvedere"]) == []
    # The officer and the purpose are on the message, logged at both ends.
    logged = LogEntry.objects.filter(message_id=named.message_id)
    assert {entry.role for entry in logged} == {"consumer", "provider"}
    assert all(entry.user_id == OFFICER.name and "Welfare check" in entry.issue for entry in logged)


def test_the_whole_area_names_every_settlement_inside_it_and_nobody_outside(people: dict[str, str]) -> None:
    event = _declare()
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="evacuation", reason="Evacuating the coast before the surge", place="",
        actor=OFFICER,
    )  # fmt: skip

    everyone = list(selectors.residents_named_all(listing=listing, actor=OFFICER))

    assert {r.uin for r in everyone} == {uin for key, uin in people.items() if key != "outside"}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"reason": "   "}, "reason", "Say in a sentence"),
        ({"reason": "check"}, "reason", "Say in a sentence"),
        ({"purpose": "marketing"}, "purpose", "Choose the purpose"),
        ({"place": "XA-01/Rosehall"}, "place", "not inside the area"),
        ({"place": "XA-09/Nowhere"}, "place", "not inside the area"),
    ],
)
def test_a_bad_statement_is_refused_and_nothing_is_read(
    people: dict[str, str], overrides: dict[str, str], field: str, words: str
) -> None:
    event = _declare()
    stated = {"purpose": "welfare_check", "reason": REASON, "place": "XA-01/Port Clement", **overrides}

    with pytest.raises(DomainError) as refused:
        services.residents_listing_state(event_id=event.pk, actor=OFFICER, **stated)

    assert refused.value.field == field and words in refused.value.detail
    assert not ResidentsListing.objects.exists()
    assert all(data_uses_for(subject=uin) == [] for uin in people.values())


def test_a_reader_may_not_state_a_purpose_nor_read_another_officers_list(people: dict[str, str]) -> None:
    event = _declare()
    with pytest.raises(DomainError) as refused:
        services.residents_listing_state(
            event_id=event.pk, purpose="welfare_check", reason=REASON, place="", actor=READER
        )
    assert refused.value.status == 403
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="welfare_check", reason=REASON, place="", actor=OFFICER
    )
    other = Principal(name="other.officer", kind="staff", roles=frozenset({"case_officer"}))
    with pytest.raises(DomainError) as not_theirs:
        selectors.listing_get(event_id=event.pk, listing_id=listing.pk, actor=other)
    assert not_theirs.value.code == "listing_not_yours"
    with pytest.raises(DomainError) as unknown:
        services.residents_listing_state(event_id=999_999, purpose="welfare_check", reason=REASON, place="",
                                         actor=OFFICER)  # fmt: skip
    assert unknown.value.status == 404


def test_a_statement_of_purpose_lapses(people: dict[str, str]) -> None:
    event = _declare()
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="relief_distribution", reason=REASON, place="", actor=OFFICER
    )
    ResidentsListing.objects.filter(pk=listing.pk).update(
        stated_at=timezone.now() - timedelta(hours=selectors.LISTING_HOURS + 1)
    )

    with pytest.raises(DomainError) as lapsed:
        selectors.listing_get(event_id=event.pk, listing_id=listing.pk, actor=OFFICER)

    assert lapsed.value.code == "listing_expired" and lapsed.value.status == 409


# --- the office pages -----------------------------------------------------------------------------


def test_an_officer_states_a_purpose_and_pages_through_the_names_and_downloads_them(
    client: Client, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "NAMED_PAGE", 2)
    event = _declare()
    officer = _login(client, "case_officer", username="ndmo.welfare")
    impact_page = officer.get(f"/office/disasters/{event.pk}").content.decode()
    assert "Residents by name, for a purpose you state" in impact_page
    assert "Auguste" not in impact_page  # counts only until a purpose is stated
    form = officer.get(f"/office/disasters/{event.pk}/residents").content.decode()
    assert "Port Clement" in form and "Rosehall" not in form and "Welfare check" in form

    stated = _state(officer, event, place="")
    assert stated.status_code == 302  # type: ignore[attr-defined]
    listing = ResidentsListing.objects.get()
    assert (listing.stated_by, listing.purpose, listing.reason) == ("ndmo.welfare", "welfare_check", REASON)
    first = officer.get(stated["Location"])  # type: ignore[index]
    assert first.status_code == 200
    text = first.content.decode()
    assert "1 to 2 of 4" in text and "Next residents" in text and "Welfare check" in text and REASON in text
    second = officer.get(f"{stated['Location']}?page=2").content.decode()  # type: ignore[index]
    assert "3 to 4 of 4" in second and "Previous residents" in second and "Next residents" not in second
    assert "Dorval" not in text + second
    assert "Child under 5" in text + second and "Aged 75 or more" in text + second

    download = officer.get(f"{stated['Location']}.csv")  # type: ignore[index]
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert {row["UIN"] for row in rows} == {uin for key, uin in people.items() if key != "outside"}
    baby = next(row for row in rows if row["UIN"] == people["baby"])
    assert baby["Child under 5"] == "yes" and baby["People in the household"] == "2"
    for key in ("grandmother", "baby", "neighbour", "belvedere"):
        uses = data_uses_for(subject=people[key])
        assert uses and all(u["user_id"] == "ndmo.welfare" and "Welfare check" in u["purpose"] for u in uses)


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"reason": ""}, "Say in a sentence why you need these names"),
        ({"purpose": ""}, "Choose the purpose for which you need the names"),
        ({"place": "XA-01/Rosehall"}, "This settlement is not inside the area"),
    ],
)
def test_a_bad_statement_says_why_beside_its_field(
    client: Client, people: dict[str, str], form: dict[str, str], words: str
) -> None:
    event = _declare()
    officer = _login(client, "supervisor", username="ndmo.lead")

    response = _state(officer, event, **form)

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert words in response.content.decode()  # type: ignore[attr-defined]
    assert not ResidentsListing.objects.exists()


def test_bad_pages_and_unknown_disasters_are_explained(client: Client, people: dict[str, str]) -> None:
    event = _declare()
    officer = _login(client, "supervisor", username="ndmo.pages")
    location = _state(officer, event)["Location"]  # type: ignore[index]

    for page, words in (("99999", "There is no page 99999"), ("10000000000", "There is no such page"),
                        ("two", "whole number"), ("0", "The first page is page 1")):  # fmt: skip
        response = officer.get(f"{location}?page={page}")
        assert response.status_code == 422, page
        assert words in response.content.decode(), page
    assert officer.get("/office/disasters/999999/residents").status_code == 404
    assert officer.get(f"/office/disasters/{event.pk}/residents/999999").status_code == 404


def test_without_the_role_the_names_are_refused_with_a_page_that_says_why(
    client: Client, people: dict[str, str]
) -> None:
    event = _declare()
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="welfare_check", reason=REASON, place="", actor=OFFICER
    )
    clerk = _login(client, "clerk", username="ndmo.clerk")

    assert "Residents by name" not in clerk.get(f"/office/disasters/{event.pk}").content.decode()
    for url in (f"/office/disasters/{event.pk}/residents", f"/office/disasters/{event.pk}/residents/{listing.pk}",
                f"/office/disasters/{event.pk}/residents/{listing.pk}.csv"):  # fmt: skip
        refused = clerk.get(url)
        assert refused.status_code == 403, url
        assert "Your role does not allow this in disaster response." in refused.content.decode()
    assert clerk.post(f"/office/disasters/{event.pk}/residents", {"purpose": "welfare_check", "reason": REASON,
                                                                  "place": ""}).status_code == 403  # fmt: skip
    assert ResidentsListing.objects.count() == 1
    assert all(data_uses_for(subject=uin) == [] for uin in people.values())


def test_another_officer_cannot_read_under_someone_elses_statement(client: Client, people: dict[str, str]) -> None:
    event = _declare()
    listing = services.residents_listing_state(
        event_id=event.pk, purpose="welfare_check", reason=REASON, place="", actor=OFFICER
    )
    other = _login(client, "case_officer", username="ndmo.other")

    response = other.get(f"/office/disasters/{event.pk}/residents/{listing.pk}")

    assert response.status_code == 403 and "State your own" in response.content.decode()
    assert all(data_uses_for(subject=uin) == [] for uin in people.values())
