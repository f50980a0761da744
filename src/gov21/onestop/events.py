"""What the service engine does when a registry event reaches it through the exchange: finish the
declarations it sent, offer proactive services, and tell every register once of a death."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_service, exchange_json
from gov21.onestop import notify, registers
from gov21.onestop.actions import registry_copy_issue
from gov21.onestop.models import Application, Offer, ReceivedEvent, ServiceDefinition
from gov21.onestop.services import (
    application_complete_external,
    application_land_case,
    application_refuse_external,
    engine_client,
    offer_make,
)

logger = logging.getLogger(__name__)


# Why the engine reads a newborn's record (the registration number follows it in the log).
BIRTH_OFFERS_PURPOSE = gettext_noop("Offer the parents the services a birth brings")


def _person(uin: str, purpose: str) -> dict[str, Any]:
    """A person's record, read through the exchange as the engine (logged for the person)."""
    return dict(
        exchange_json(
            client=engine_client(),
            service=agency_service("CRO", "civil-registry", "persons"),
            path=f"/{uin}",
            issue=purpose,
        )
    )


def _declared(declaration: Any, code: str) -> Application | None:
    if declaration is None:
        return None
    return (
        Application.objects.select_related("service")
        .filter(external_ref=str(declaration), service__code=code, state=Application.State.APPROVED)
        .first()
    )


def on_birth(payload: dict[str, Any], seq: int) -> None:
    uin, number = str(payload["uin"]), str(payload["number"])
    # A sentence the person reads in their language, then the registration it is about.
    child = _person(uin, f"{BIRTH_OFFERS_PURPOSE} ({number})")
    name = f"{child['given_names']} {child['family_name']}"
    application = _declared(payload.get("declaration"), "declare-birth")
    if application is not None:
        try:
            # The registry gives the parent who declared the birth through the engine, on their
            # own assertion, the first certificate without being asked again.
            copy = registry_copy_issue(application, number=number, title=f"Birth certificate of {name} ({number})")
            note = f"Registered as {number}; certificate {copy.serial} issued."
        except DomainError as error:
            # Declared on an officer's word, not the parent's: the parent orders the certificate.
            logger.info("birth %s: no certificate for the declarant: %s", number, error.detail)
            note = f"Registered as {number}; order the birth certificate as a certified copy."
        application_complete_external(application=application, note=note, facts={"number": number, "child_uin": uin})
    for service in ServiceDefinition.objects.filter(active=True):
        proactive = service.definition.get("proactive") or {}
        if proactive.get("event") != "birth.registered" or proactive.get("offer_to") != "parents":
            continue
        for parent in {child.get("mother_uin"), child.get("father_uin")} - {None, ""}:
            offer_make(
                uin=str(parent),
                service=service,
                facts={"answers": {"child_uin": uin}, "params": {"child_name": name}},
                source_event=f"birth.registered:{number}",
            )


def on_death(payload: dict[str, Any], seq: int) -> None:
    """Tell us once: the deceased's licences and benefits are closed, open offers withdrawn, and the
    person who reported the death is told what was done."""
    uin, number = str(payload["uin"]), str(payload["number"])
    reason = f"Death registered ({number})"
    closed_licences = registers.licences_close(uin=uin, reason=reason)
    closed_benefits = registers.benefits_close(uin=uin, reason=reason)
    Offer.objects.filter(uin=uin, state=Offer.State.OPEN).update(state=Offer.State.WITHDRAWN)
    done = [f"driving licence {n} closed" for n in closed_licences]
    done += [f"{kind.replace('-', ' ')} stopped" for kind in closed_benefits]
    summary = "; ".join(done) or "no licence or benefit was open"
    application = _declared(payload.get("declaration"), "report-death")
    if application is not None:
        application_complete_external(
            application=application, note=f"Registered as {number}; {summary}.", facts={"closed": summary}
        )
    logger.info("death %s: %s", number, summary)


def on_address(payload: dict[str, Any], seq: int) -> None:
    uin = str(payload["uin"])
    application = _declared(payload.get("declaration"), "change-of-address")
    if application is not None:  # a change a registrar registered after deciding the declaration
        application_complete_external(
            application=application,
            note=f"Registered as {payload['number']}.",
            facts={"registration": str(payload["number"])},
        )
    # In the language the person applied in; English when a registrar registered it without an
    # application of theirs (the shop knows no other language of the person).
    language = application.language if application is not None else "en"
    with translation.override(language):
        subject = _("Your address was changed in the civil registry")
        body = _(
            "The civil registry recorded your new address (%(number)s). The agencies that use your address "
            "have been told."
        ) % {"number": payload["number"]}
    notify.notification_queue(
        uin=uin,
        template="registry.address_changed",
        subject=subject,
        body=body,
        link="/my/profile",
        language=language,
    )


def _lodged_with_land(number: str) -> Application | None:
    return (
        Application.objects.select_related("service")
        .filter(external_ref=number, state=Application.State.APPROVED, agency="land-register")
        .first()
    )


def on_land_registered(payload: dict[str, Any], seq: int) -> None:
    """The land registrar registered a transaction the engine lodged (a sale): the application is done."""
    number = str(payload["number"])
    application = _lodged_with_land(number)
    if application is not None:
        application_complete_external(
            application=application,
            note=f"Registered by the land register as {number}.",
            facts={"transaction": number},
            by="land register",
        )


def on_land_rejected(payload: dict[str, Any], seq: int) -> None:
    """The land registrar rejected it: the application is refused with the registrar's reason."""
    number = str(payload["number"])
    application = _lodged_with_land(number)
    if application is not None:
        reason = str(payload.get("reason") or "Rejected by the land register.")
        application_refuse_external(application=application, reason=reason, by="land register")


def on_land_inheritance(payload: dict[str, Any], seq: int) -> None:
    """Tell us once, for land: the land register opened an inheritance of the deceased's parcels.
    The person who reported the death through the shop is told the case and what happens next."""
    declaration = payload.get("declaration")
    if declaration is None:
        return
    application = (
        Application.objects.select_related("service")
        .filter(external_ref=str(declaration), service__code="report-death")
        .exclude(state__in=(Application.State.REFUSED, Application.State.WITHDRAWN))
        .first()
    )
    if application is None:
        return
    number, parcels = str(payload["number"]), ", ".join(str(p) for p in payload.get("parcels") or [])
    application_land_case(application=application, case=number, parcels=parcels)


HANDLERS = {
    "birth.registered": on_birth,
    "death.registered": on_death,
    "address.changed": on_address,
    "land.registered": on_land_registered,
    "land.rejected": on_land_rejected,
    "land.inheritance_opened": on_land_inheritance,
}


def event_receive(*, event: dict[str, Any]) -> str:
    """Handle one event, at most once per (type, sequence) even though delivery is at least once."""
    event_type, seq = str(event["event_type"]), int(event["seq"])
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    with transaction.atomic():
        _, created = ReceivedEvent.objects.get_or_create(event_type=event_type, seq=seq)
        if not created:
            return "duplicate"
        payload = event.get("payload")
        if not isinstance(payload, dict):
            raise DomainError("invalid_input", "An event's payload is a JSON object", field="payload")
        handler(payload, seq)
    return "handled"
