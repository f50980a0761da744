"""Tell us once, for land: when a death reported through the shop is registered, the land register
opens an inheritance of the deceased's parcels, and the person who reported the death is told the
case, the parcels and what happens next, through the exchange's events."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.land.models import Transaction
from gov21.onestop import definitions
from gov21.onestop import services as engine
from gov21.onestop.models import Application, Notification
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent
from tests.land.helpers import first_register, owners, square
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
CIVIL = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _report_and_register(informant: str, deceased: str) -> Application:
    application = engine.application_start(service="report-death", uin=informant, user_id=None)
    application = engine.application_consent(application=application, uin=informant)
    answers = {
        "deceased_uin": deceased,
        "death_date": timezone.localdate().isoformat(),
        "place_parish": "XA-01",
        "relationship": "child",
    }
    for question, value in answers.items():
        application = engine.application_answer(application=application, uin=informant, question_id=question, raw=value)
    application = engine.application_submit(application=application, uin=informant)
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    registry.event_validate(event_id=event.pk, actor=CIVIL)
    registry.event_register(event_id=event.pk, actor=CIVIL)
    while deliveries_run():  # the registry's events, then the land register's
        pass
    application.refresh_from_db()
    return application


def test_the_family_is_told_of_the_inheritance_case_the_land_register_opened() -> None:
    parent = register_person(CIVIL, born=date(1950, 1, 1), given="Albertine")
    child = register_person(CIVIL, born=date(1980, 1, 1), mother=parent)
    house = first_register(square(70, 0), owners((parent, "1/1")))
    field = first_register(square(72, 0), owners((parent, "1/2"), (child, "1/2")))

    application = _report_and_register(child.uin, parent.uin)

    case = Transaction.objects.get(kind="inheritance")
    assert sorted(case.parcels) == sorted([house, field])
    assert application.state == Application.State.COMPLETED
    assert application.verified["_output"]["land_case"] == case.number
    told = Notification.objects.get(uin=child.uin, template="report-death.land_case")
    assert case.number in told.body and house in told.body and field in told.body
    assert "Albertine" in told.subject and "heirs" in told.body
    # Told once, though the event may be delivered again.
    assert Notification.objects.filter(uin=child.uin, template="report-death.land_case").count() == 1


def test_a_death_without_land_tells_nothing_of_land() -> None:
    parent = register_person(CIVIL, born=date(1950, 1, 1))
    child = register_person(CIVIL, born=date(1980, 1, 1), mother=parent)
    application = _report_and_register(child.uin, parent.uin)
    assert application.state == Application.State.COMPLETED
    assert "land_case" not in application.verified["_output"]
    assert not Notification.objects.filter(template="report-death.land_case").exists()
