"""What the land register does when the civil registry's events reach it through the exchange, as
they would reach any agency's system: a registered death opens (lodges) an inheritance of the
deceased's land, for a registrar to complete with the heirs."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.core.principal import Principal, PrincipalKind
from gov21.land.models import Party, PartyKind, ReceivedEvent, Right, RightKind
from gov21.land.records import InheritanceFacts, PartyRef
from gov21.land.services import transaction_lodge, transaction_publish

logger = logging.getLogger(__name__)

# The system that lodges what an event asks for (it lodges, it never checks or registers).
EVENTS_ACTOR = Principal(name="land-register (events)", kind=PrincipalKind.SYSTEM, roles=frozenset({"clerk"}))


def deceased_parcels(uin: str) -> list[str]:
    """The parcels whose current title names the person with ``uin`` (alone or jointly)."""
    holders = Party.objects.filter(kind=PartyKind.PERSON, identifier=uin).values("pk")
    groups = Party.objects.filter(kind=PartyKind.GROUP, members__member__in=holders).values("pk")
    rows = Right.objects.filter(
        valid_to__isnull=True,
        kind__in=(RightKind.OWNERSHIP, RightKind.STATE_LAND),
        party__in=[*(h["pk"] for h in holders), *(g["pk"] for g in groups)],
    )
    return sorted(set(rows.values_list("parcel_number", flat=True)))


def on_death(payload: dict[str, Any], seq: int) -> str:
    uin, number = str(payload.get("uin") or ""), str(payload.get("number") or "")
    parcels = deceased_parcels(uin)
    if not parcels:
        return "no land"
    facts = InheritanceFacts(
        parcels=parcels, deceased=PartyRef(kind="person", identifier=uin), death_registration=number[:30]
    )
    tx = transaction_lodge(facts=facts, actor=EVENTS_ACTOR)
    # Tell us once: the service engine tells whoever reported the death which case was opened. The
    # registry's declaration id lets it find the report it sent, as with the registry's own event.
    declaration = payload.get("declaration")
    extra: dict[str, str | int] = {"death_registration": number[:30]}
    if isinstance(declaration, int | str) and str(declaration).isdigit():
        extra["declaration"] = int(declaration)
    transaction_publish(tx, "land.inheritance_opened", extra=extra)
    logger.info("death %s: inheritance %s lodged for %d parcels", number, tx.number, len(parcels))
    return tx.number


HANDLERS = {"death.registered": on_death}


def event_receive(*, event: dict[str, Any]) -> str:
    """Handle one event, at most once per (type, sequence) though delivery is at least once."""
    event_type, seq = str(event["event_type"]), int(event["seq"])
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    payload = event.get("payload")
    if not isinstance(payload, dict):
        raise DomainError("invalid_input", "An event's payload is a JSON object", field="payload")
    with transaction.atomic():
        _, created = ReceivedEvent.objects.get_or_create(
            event_type=event_type, seq=seq, defaults={"received_at": timezone.now()}
        )
        if not created:
            return "duplicate"
        return f"handled: {handler(payload, seq)}"
