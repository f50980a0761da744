"""What approving an application does, per action a definition names; and its output document.

Actions on another agency's register go through the exchange as the service engine (the civil
registry's declarations and copies); the registers the engine keeps for an agency (licences,
benefits, business names) are written directly, in the approval's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from django.utils import timezone
from django.utils.translation import gettext_noop

from gov21.core.errors import DomainError
from gov21.core.geography import parishes
from gov21.exchange.contracts import agency_service, exchange_json
from gov21.identity.contracts import person_assertion_issue
from gov21.onestop import documents, registers
from gov21.onestop.definitions import text
from gov21.onestop.models import Application, Document


@dataclass(frozen=True)
class ActionResult:
    facts: dict[str, str] = field(default_factory=dict)
    # True when another agency still has to act (a registrar registers the declared birth).
    pending: bool = False


def _client() -> str:
    from gov21.onestop.services import engine_client

    return engine_client()


def _registry(
    application: Application,
    service: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    access_token: str = "",
    purpose: str = "",
) -> Any:
    """Call a civil-registry service as the engine. With the acting person's ``access_token`` the
    call carries the identity provider's assertion that they asked for ``purpose``: the registry
    takes a person's authority from that, never from X-Road-UserId (kept for its log)."""
    address = agency_service("CRO", "civil-registry", service)
    assertion = ""
    if access_token and purpose:
        assertion = person_assertion_issue(
            access_token=access_token, audience=address, purpose=purpose, actor=_client()
        )
    return exchange_json(
        client=_client(),
        service=address,
        path=path,
        method="POST" if body is not None else "GET",
        body=orjson.dumps(body) if body is not None else b"",
        content_type="application/json" if body is not None else "",
        user_id=application.applicant_uin,
        issue=application.reference,
        assertion=assertion,
    )


def _declarant_name(application: Application) -> str:
    person = application.verified.get("person") or {}
    return f"{person.get('given_names', '')} {person.get('family_name', '')}".strip()[:200]


def declare_birth(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    a = application.answers
    me, other = application.applicant_uin, a.get("other_parent_uin") or None
    mother, father = (me, other) if a["parent_role"] == "mother" else (other, me)
    result = _registry(
        application,
        "declarations",
        "/birth",
        {
            "given_names": a["given_names"],
            "family_name": a["family_name"],
            "sex": a["sex"],
            "birth_date": a["birth_date"],
            "birth_parish": a["birth_parish"],
            "birth_settlement": a.get("birth_settlement", ""),
            "mother_uin": mother,
            "father_uin": father,
            "informant": _declarant_name(application),
        },
        access_token=access_token,
        purpose="birth",
    )
    application.external_ref = str(result["declaration"])
    return ActionResult({"declaration": str(result["declaration"])}, pending=True)


def declare_death(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    a = application.answers
    result = _registry(
        application,
        "declarations",
        "/death",
        {
            "uin": a["deceased_uin"],
            "death_date": a["death_date"],
            "place_parish": a.get("place_parish", ""),
            "informant": _declarant_name(application),
        },
        access_token=access_token,
        purpose="death",
    )
    application.external_ref = str(result["declaration"])
    return ActionResult({"declaration": str(result["declaration"])}, pending=True)


def declare_address_change(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    a = application.answers
    result = _registry(
        application,
        "declarations",
        "/address_change",
        {
            "uin": application.applicant_uin,
            "date": a["moved_on"],
            "parish": a["parish"],
            "settlement": a.get("settlement", ""),
            "line": a["line"],
        },
        access_token=access_token,
        purpose="address_change",
    )
    application.external_ref = str(result["declaration"])
    address = ", ".join(x for x in (a["line"], a.get("settlement", ""), a["parish"]) if x)
    # Registered at once on the citizen's own assertion; otherwise a registrar decides, and the
    # registry's address.changed event completes the application.
    pending = result.get("state") != "registered"
    return ActionResult({"address": address, "registration": str(result.get("number") or "")}, pending=pending)


def registry_copy_issue(application: Application, *, number: str, title: str = "", access_token: str = "") -> Document:
    """Order a certified copy of a registration from the civil registry through the exchange, and
    put it in the applicant's documents with the registry's own signed credential. The registry
    issues it on the assertion of the person acting (``access_token``: the applicant, or the
    officer deciding), or without one for the person who declared the registration through the
    engine."""
    result = _registry(
        application, "copies", "/", {"number": number}, access_token=access_token, purpose="certificate_copy"
    )
    return documents.document_issue(
        application=application,
        kind=f"{result['kind']}-certificate",
        title=title or f"Certified copy: {result['kind']} certificate {result['number']}",
        holder_uin=application.applicant_uin,
        agency="civil-registry",
        facts=[(str(k), str(v)) for k, v in result["facts"]],
        serial=str(result["serial"]),
        credential=str(result["credential"]),
    )


def certificate_copy(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    copy = registry_copy_issue(application, number=application.answers["number"], access_token=access_token)
    return ActionResult({"serial": copy.serial})


def licence_renew(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    number = application.answers["licence_number"]
    before = registers.licences_by_number(number=number)
    licence = registers.licence_renew(uin=application.applicant_uin, number=number)
    return ActionResult(
        {
            "licence_number": licence.number,
            "valid_until": licence.expires_on.isoformat(),
            "classes": licence.classes,
            "previous_expiry": before[0]["expires_on"] if before else "",
        }
    )


def benefit_award(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    child = application.verified.get("child") or {}
    started = date.fromisoformat(child["birth_date"]) if child.get("birth_date") else timezone.localdate()
    benefit = registers.benefit_award(
        kind="child-benefit",
        claimant=application.applicant_uin,
        beneficiary=application.answers["child_uin"],
        started_on=started,
        application=application,
    )
    return ActionResult(
        {
            "child_name": f"{child.get('given_names', '')} {child.get('family_name', '')}".strip(),
            "weekly_amount": f"{benefit.weekly_amount / 100:.2f}",
            "started_on": benefit.started_on.isoformat(),
        }
    )


def business_register(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    a = application.answers
    business = registers.business_register(
        name=a["business_name"], owner=application.applicant_uin, activity=a["activity"], address=a["address"]
    )
    return ActionResult({"business_number": business.number, "business_name": business.name})


def land_transfer_lodge(application: Application, definition: dict[str, Any], access_token: str) -> ActionResult:
    """Lodge the sale both parties agreed to with the land register, through the exchange; a land
    registrar checks and registers it, and the register's event completes (or refuses) the application."""
    a = application.answers
    buyer = str(a[definition["second_party"]["question"]])
    if (application.verified.get("_confirmed") or {}).get("uin") != buyer:
        raise DomainError("not_confirmed", "The buyer has not confirmed the sale; it cannot be lodged.", status=409)
    body = {
        "parcel": a["parcel"],
        "seller": {"kind": "person", "identifier": application.applicant_uin},
        "buyers": [{"party": {"kind": "person", "identifier": buyer}, "share": "1/1"}],
        "price_cents": round(float(a["price"]) * 100),
        "sold_on": a["sale_date"],
        "reference": application.reference,
    }
    result = exchange_json(
        client=_client(),
        service=agency_service("LRA", "land-register", "parcels"),
        path="/transfers",
        method="POST",
        body=orjson.dumps(body),
        content_type="application/json",
        user_id=application.applicant_uin,
        issue=application.reference,
    )
    application.external_ref = str(result["number"])
    return ActionResult({"transaction": str(result["number"]), "parcel": str(a["parcel"])}, pending=True)


ACTIONS: dict[str, Callable[[Application, dict[str, Any], str], ActionResult]] = {
    "registry.declare_birth": declare_birth,
    "registry.declare_death": declare_death,
    "registry.declare_address_change": declare_address_change,
    "registry.certificate_copy": certificate_copy,
    "licence.renew": licence_renew,
    "benefit.award": benefit_award,
    "business.register": business_register,
    "land.lodge_transfer": land_transfer_lodge,
}


def undo(name: str, *, application: Application) -> None:
    """Reverse what an approval did to a register the engine keeps, when the decision is overturned.
    Declarations and copies are with the civil registry; a registrar deals with them there."""
    output = application.verified.get("_output") or {}
    if name == "licence.renew" and output.get("previous_expiry"):
        registers.licence_restore(
            number=str(output["licence_number"]), expires_on=date.fromisoformat(str(output["previous_expiry"]))
        )
    elif name == "benefit.award":
        registers.benefit_cancel(application=application, reason=f"Award overturned ({application.reference})")
    elif name == "business.register" and output.get("business_number"):
        registers.business_cancel(number=str(output["business_number"]))


def run(name: str, *, application: Application, definition: dict[str, Any], access_token: str = "") -> ActionResult:
    """Perform one action of an approval; ``access_token`` is the live token of the person acting
    (the citizen, or the officer deciding), empty when nobody signed in is acting."""
    action = ACTIONS.get(name)
    if action is None:
        raise DomainError("unknown_action", f"The service names an action gov21 does not have: {name}")
    return action(application, definition, access_token)


# What the output document says, per kind: (label, key of the application's output or answers).
# Labels are printed and signed in English and shown on pages in the reader's language.
_DOCUMENT_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "driving-licence": ((gettext_noop("Licence number"), "licence_number"), (gettext_noop("Classes"), "classes")),
    "business-registration": (
        (gettext_noop("Business name"), "business_name"),
        (gettext_noop("Business registration number"), "business_number"),
    ),
    "child-benefit-award": (
        (gettext_noop("Child"), "child_name"),
        (gettext_noop("Weekly amount"), "weekly_amount"),
        (gettext_noop("From"), "started_on"),
    ),
    "marriage-notice": (
        (gettext_noop("Partner"), "partner_uin"),
        (gettext_noop("Intended date"), "intended_date"),
        (gettext_noop("Parish"), "parish"),
    ),
}


def output_document(*, application: Application, definition: dict[str, Any]) -> Document:
    out = definition["output"]
    person = application.verified.get("person") or {}
    values = {**application.answers, **(application.verified.get("_output") or {})}
    facts = [(gettext_noop("Holder"), f"{person.get('given_names', '')} {person.get('family_name', '')}".strip())]
    facts.append((gettext_noop("National identity number"), application.applicant_uin))
    parish_names = dict(parishes())
    facts += [
        (label, parish_names.get(str(values[key]), str(values[key])) if key == "parish" else str(values[key]))
        for label, key in _DOCUMENT_FACTS.get(out["kind"], ())
        if values.get(key)
    ]
    facts.append((gettext_noop("Application"), application.reference))
    valid_until = None
    if values.get("valid_until"):
        valid_until = date.fromisoformat(str(values["valid_until"]))
    elif out.get("valid_years"):
        valid_until = registers.add_years(timezone.localdate(), int(out["valid_years"]))
    # The end of validity is the document's own field (and its credential's ``vu``), printed once.
    return documents.document_issue(
        application=application,
        kind=out["kind"],
        title=text(out["title"], "en"),
        holder_uin=application.applicant_uin,
        agency=definition["agency"],
        facts=facts,
        valid_until=valid_until,
    )


def document_withdraw(*, document: Document, reason: str) -> None:
    documents.document_revoke(document=document, reason=reason)
