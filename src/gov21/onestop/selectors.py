"""Reads of the one-stop shop: the catalogue by life event, a person's applications, documents,
offers and consents, the profile assembled from the registries, and the back office's queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from gov21.core.credentials import VALID_UNTIL_LABEL, translated_facts
from gov21.core.errors import DomainError, NotFound
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.onestop import definitions
from gov21.onestop.definitions import LIFE_EVENTS, text
from gov21.onestop.documents import document_subject_name, document_title
from gov21.onestop.models import (
    Application,
    BenefitKind,
    BenefitStatus,
    DataConsent,
    Document,
    LicenceStatus,
    Offer,
    Payment,
    ServiceDefinition,
    Transition,
)
from gov21.onestop.records import (
    ApplicationState,
    ApplicationSummary,
    ConsentSummary,
    DocumentSummary,
    OfferSummary,
    ServiceSummary,
    Translated,
)
from gov21.onestop.services import SYSTEM_ACTOR, case_require, fee_text

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = Application.State
OPEN_STATES = (S.SUBMITTED, S.AWAITING_PAYMENT, S.IN_REVIEW, S.INFO_REQUESTED, S.REVIEW_REQUESTED)


@dataclass(frozen=True, slots=True)
class ServiceCard:
    code: str
    title: str
    summary: str
    life_events: list[str]
    proactive: bool
    fee: str


def _card(row: ServiceDefinition, language: str) -> ServiceCard:
    d = row.definition
    return ServiceCard(
        code=row.code,
        title=text(d["title"], language),
        summary=text(d["summary"], language),
        life_events=list(d["life_events"]),
        proactive=bool(d.get("proactive")),
        fee=fee_text(d),
    )


def catalogue(*, language: str, query: str = "", life_event: str = "") -> list[ServiceCard]:
    """Active services, filtered by life event and by words in any language's title, summary or keywords."""
    words = [w for w in query.lower().split() if w][:8]
    found = []
    for row in definitions.catalogue():
        d = row.definition
        if life_event and life_event not in d["life_events"]:
            continue
        if words:
            haystack = " ".join(
                [*d["title"].values(), *d["summary"].values(), *d.get("keywords", []), row.code]
            ).lower()
            if not all(w in haystack for w in words):
                continue
        found.append(_card(row, language))
    return sorted(found, key=lambda c: c.title)


def definition_versions(*, code: str = "") -> QuerySet[ServiceDefinition]:
    """Every stored version of the service definitions, or of one service's when ``code`` is given:
    by service, newest version first."""
    rows = ServiceDefinition.objects.order_by("code", "-version")
    return rows.filter(code=code) if code else rows


@dataclass(frozen=True)
class FeedbackNumbers:
    """What citizens said of a service after using it: how many rated it, the mean rating (1 to 5)
    and how many wrote a comment."""

    ratings: int
    average: float | None
    comments: int


def feedback_numbers() -> dict[str, FeedbackNumbers]:
    """The ratings of each service, by service code, from "rate this service" after an application."""
    from django.db.models import Avg

    from gov21.onestop.models import Feedback

    rows = (
        Feedback.objects.exclude(service_code="")
        .values("service_code")
        .annotate(ratings=Count("rating"), average=Avg("rating"), comments=Count("pk", filter=~Q(comment="")))
    )
    return {
        row["service_code"]: FeedbackNumbers(
            ratings=row["ratings"],
            average=round(float(row["average"]), 1) if row["average"] is not None else None,
            comments=row["comments"],
        )
        for row in rows
    }


def definition_in_use(*, code: str) -> ServiceDefinition | None:
    """The version of a service's definition new applications start with, or None for an unknown service."""
    return ServiceDefinition.objects.filter(code=code, active=True).first()


def life_events(*, language: str) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for row in definitions.catalogue():
        for event in row.definition["life_events"]:
            counts[event] = counts.get(event, 0) + 1
    return [
        {"slug": slug, "name": names.get(language) or names["en"], "count": counts.get(slug, 0)}
        for slug, names in LIFE_EVENTS.items()
        if counts.get(slug)
    ]


def life_event_name(slug: str, language: str) -> str:
    names = LIFE_EVENTS.get(slug)
    if names is None:
        raise NotFound("life_event_not_found", _("There is no such life event."))
    return names.get(language) or names["en"]


def applications_for(*, uin: str, limit: int = 100) -> list[ApplicationSummary]:
    """The person's applications, newest first (at most ``limit``)."""
    rows = Application.objects.filter(applicant_uin=uin).select_related("service").order_by("-created_at")[:limit]
    return [
        ApplicationSummary(
            reference=a.reference,
            service_code=a.service.code,
            title=a.service.definition["title"],
            state=ApplicationState(a.state),
            state_label=a.get_state_display(),
            created_at=a.created_at,
        )
        for a in rows
    ]


def application_for(*, uin: str, reference: str) -> Application:
    application = Application.objects.select_related("service").filter(reference=reference, applicant_uin=uin).first()
    if application is None:
        raise NotFound("application_not_found", _("There is no such application on your account."))
    return application


def application_state_label(state: str) -> str:
    """The words a person reads for an application's state code (the code itself if unknown)."""
    return str(dict(Application.State.choices).get(state, state))


def service_summary(code: str) -> ServiceSummary:
    """What a person reads about the active version of service ``code`` before applying."""
    d = definitions.active(code).definition
    return ServiceSummary(
        code=code,
        title=d["title"],
        summary=d["summary"],
        before_you_start=d.get("before_you_start"),
        documents_required=d.get("documents_required", []),
        prefill_labels=[p["label"] for p in d.get("prefill", [])],
        sla_days=d["sla_days"],
    )


def _document_summary(document: Document) -> DocumentSummary:
    title = document_title(document)
    # A parent holding each child's certificate tells them apart by the child's name.
    subject = document_subject_name(document)
    return DocumentSummary(
        serial=document.serial,
        kind=document.kind,
        title=f"{title} — {subject}" if subject else title,
        agency=document.agency,
        # Labels in the reader's language; an end of validity is shown from its own field, once
        # (documents issued before it was left out of the facts carry it there too).
        facts=translated_facts([fact for fact in document.facts if fact[0] != VALID_UNTIL_LABEL]),
        credential=document.credential,
        status=document.status,
        status_label=document.get_status_display(),
        status_reason=document.status_reason,
        issued_at=document.issued_at,
        valid_until=document.valid_until,
    )


def documents_for(*, uin: str, limit: int = 100) -> list[DocumentSummary]:
    """The person's documents, newest first (at most ``limit``)."""
    rows = Document.objects.filter(holder_uin=uin).order_by("-issued_at")[:limit]
    return [_document_summary(row) for row in rows]


def document_row(*, uin: str, serial: str) -> Document:
    """The document ``serial`` if ``uin`` holds it; NotFound otherwise, so nobody learns of another's."""
    document = Document.objects.filter(holder_uin=uin, serial=serial).first()
    if document is None:
        raise NotFound("document_not_found", _("There is no such document on your account."))
    return document


def document_for(*, uin: str, serial: str) -> DocumentSummary:
    """The document ``serial`` if ``uin`` holds it; NotFound otherwise."""
    return _document_summary(document_row(uin=uin, serial=serial))


def _open_offers(uin: str) -> QuerySet[Offer]:
    return Offer.objects.filter(uin=uin, state=Offer.State.OPEN)


def offers_for(*, uin: str) -> list[OfferSummary]:
    """The offers waiting for the person's answer, newest first."""
    return [
        OfferSummary(
            id=o.pk,
            service_code=o.service_code,
            child_name=str(o.facts.get("params", {}).get("child_name", "")),
            created_at=o.created_at,
        )
        for o in _open_offers(uin).order_by("-created_at")
    ]


def offers_open_count(*, uin: str) -> int:
    """How many offers wait for the person's answer."""
    return _open_offers(uin).count()


def consents_for(*, uin: str, limit: int = 100) -> list[ConsentSummary]:
    """The consents the person gave to have facts fetched, newest first (at most ``limit``)."""
    rows = DataConsent.objects.filter(uin=uin).select_related("application__service").order_by("-given_at")[:limit]
    return [
        ConsentSummary(
            reference=c.application.reference,
            title=c.application.service.definition["title"],
            sources=[str(source) for source in c.sources],
            source_labels=_source_labels(c.application.service.definition, [str(s) for s in c.sources]),
            given_at=c.given_at,
        )
        for c in rows
    ]


def _source_labels(definition: dict[str, Any], names: list[str]) -> list[Translated]:
    """The labels the service gives the sources a consent names (the name itself when it has none)."""
    labels = {p["name"]: p.get("label") for p in definition.get("prefill", [])}
    return [labels.get(name) or {"en": name} for name in names]


# Why the portal reads a person's registers for their profile page, recorded with each read.
PROFILE_PURPOSE = gettext_noop("Show you your own profile")
# The registries "My profile" is assembled from: (section, member, subsystem, service, path, label).
PROFILE_SOURCES = (
    ("person", "CRO", "civil-registry", "persons", "/{uin}", gettext_noop("Civil Registration Office")),
    ("licences", "LTA", "licensing", "licences", "/holders/{uin}", gettext_noop("Licensing and Transport Authority")),
    ("benefits", "MSD", "benefits", "awards", "/claimants/{uin}", gettext_noop("Ministry of Social Development")),
    (
        "businesses",
        "BRA",
        "business-register",
        "businesses",
        "/owners/{uin}",
        gettext_noop("Business Registration Authority"),
    ),
)
# The coded values each source answers, in words. The registers the shop keeps declare theirs
# beside their models (licence and benefit statuses); the civil registry's marital statuses are
# the codes its person service answers. A code not listed is shown as the source wrote it.
PROFILE_WORDS: dict[tuple[str, str], dict[str, StrOrPromise]] = {
    ("person", "marital_status"): {
        "single": gettext_lazy("Never married"),
        "married": gettext_lazy("Married"),
        "divorced": gettext_lazy("Divorced"),
        "widowed": gettext_lazy("Widowed"),
    },
    ("person", "status"): {"alive": gettext_lazy("Living"), "deceased": gettext_lazy("Deceased")},
    ("licences", "status"): dict(LicenceStatus.choices),
    ("benefits", "status"): dict(BenefitStatus.choices),
    ("benefits", "kind"): dict(BenefitKind.choices),
}


def _in_words(key: str, data: Any) -> Any:
    """``data`` with a ``<field>_label`` beside each coded value of :data:`PROFILE_WORDS`, in the
    active language (on the record itself, and on each of its ``items``)."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for (section, field), words in PROFILE_WORDS.items():
        if section == key and isinstance(out.get(field), str):
            out[f"{field}_label"] = str(words.get(out[field], out[field]))
    if isinstance(out.get("items"), list):
        out["items"] = [_in_words(key, item) for item in out["items"]]
    return out


def profile_for(*, uin: str) -> dict[str, Any]:
    """A person's data assembled live from each agency's register through the exchange, each part
    with its source (the agency, in the reader's language) and its coded values in words; a source
    that does not answer is reported, the others still shown."""
    client = agency_client("PORTAL", "portal")
    sections: dict[str, Any] = {}
    for key, member, subsystem, service, path, label in PROFILE_SOURCES:
        source = {"source": _(label), "service": f"{member}/{subsystem}/{service}"}
        try:
            data = exchange_json(
                client=client,
                service=agency_service(member, subsystem, service),
                path=path.format(uin=uin),
                user_id=uin,
                issue=PROFILE_PURPOSE,
            )
            sections[key] = {**source, "data": _in_words(key, data)}
        except DomainError as error:
            sections[key] = {**source, "error": error.detail}
    return sections


# --- back office ----------------------------------------------------------------------------------


def _agencies(principal: Principal, permission: str = "case.read") -> Q:
    if "administrator" in principal.roles:
        return Q()
    return Q(agency__in=sorted(principal.agencies_where(permission)))


def case_queue(
    *, principal: Principal, state: str = "", mine: bool = False, query: str = "", overdue: bool = False
) -> QuerySet[Application]:
    principal.require("case.read")
    rows = Application.objects.filter(_agencies(principal)).select_related("service")
    rows = rows.filter(state=state) if state else rows.filter(state__in=OPEN_STATES)
    if mine:
        rows = rows.filter(assigned_to=principal.name)
    if overdue:
        rows = rows.filter(due_at__lt=timezone.now())
    if query.strip():
        q = query.strip()[:40]
        rows = rows.filter(Q(reference__iexact=q) | Q(applicant_uin=q) | Q(service__code__icontains=q))
    return rows.order_by("due_at", "pk")


def workload(*, principal: Principal) -> dict[str, Any]:
    """For supervisors: open cases per officer and per service, and how many are overdue or near."""
    principal.require("case.assign")
    now = timezone.now()
    rows = Application.objects.filter(_agencies(principal), state__in=OPEN_STATES)
    by_officer = list(
        rows.values("assigned_to").annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    )
    by_service = list(
        rows.values("service__code").annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    )
    return {
        "by_officer": sorted(by_officer, key=lambda r: -r["open"]),
        "by_service": sorted(by_service, key=lambda r: -r["open"]),
        "overdue": rows.filter(due_at__lt=now).count(),
        "due_soon": rows.filter(due_at__gte=now, due_at__lt=now + timedelta(days=2)).count(),
        "automatic_today": Application.objects.filter(
            _agencies(principal), decided_by=SYSTEM_ACTOR, decided_at__gte=now - timedelta(days=1)
        ).count(),
    }


def automatic_decisions(*, principal: Principal, limit: int = 50) -> QuerySet[Application]:
    principal.require("case.read")
    return (
        Application.objects.filter(_agencies(principal), decided_by=SYSTEM_ACTOR)
        .select_related("service")
        .order_by("-decided_at")[:limit]
    )


def case_get(*, principal: Principal, reference: str, permission: str = "case.read") -> Application:
    """A case with what its page shows, if the officer may see it. It records no access: the office
    calls it for a case already opened with a purpose (``services.case_open``), and to refuse an
    unknown case or another agency's before asking for one."""
    application = (
        Application.objects.select_related("service")
        .prefetch_related(
            Prefetch("transitions", queryset=Transition.objects.order_by("at", "id")),
            Prefetch("payments", queryset=Payment.objects.order_by("created_at", "id")),
            Prefetch("documents", queryset=Document.objects.order_by("issued_at", "id")),
        )
        .filter(reference=reference)
        .first()
    )
    if application is None:
        raise NotFound("application_not_found", _("There is no case %(reference)s.") % {"reference": reference})
    case_require(principal, application, permission)
    return application
