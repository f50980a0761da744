"""Reads of the civil registry. Every read of a person's data on behalf of someone is authorised and
recorded in the access log (who, when, why) before the data is returned."""

from __future__ import annotations

import base64
import calendar
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar, get_args
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gov21.audit.contracts import Access, access_action_declare, access_record, access_record_all
from gov21.core.credentials import code_from_text, document_kind, translated, translated_facts
from gov21.core.crypto import verify_compact
from gov21.core.errors import DomainError, NotFound
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.keys import registry_keys
from gov21.registry.models import (
    Certificate,
    CertificateStatus,
    EventKind,
    EventState,
    LifeEvent,
    Person,
    PersonStatus,
    PersonVersion,
    PopulationMonth,
)
from gov21.registry.records import (
    NamedResident,
    NamedResidents,
    PersonFacts,
    PersonHistory,
    PersonRecord,
    PersonVersionRecord,
    ResidentPurpose,
)
from gov21.registry.services import person_snapshot

MAX_PAGE = 100
Item = TypeVar("Item")

# What each read means to the person it concerns ("who used my data").
PERSON_READ = access_action_declare("person.read", gettext_lazy("Read your record in the civil registry"))
PERSON_READ_AS_OF = access_action_declare(
    "person.read_as_of", gettext_lazy("Read your record in the civil registry as it stood on an earlier date")
)
PERSON_HISTORY = access_action_declare(
    "person.history", gettext_lazy("Read every past version of your record in the civil registry")
)
PERSON_SEARCH = access_action_declare(
    "person.search", gettext_lazy("Found your record in a search of the civil registry")
)
PERSON_LINKAGE = access_action_declare(
    "person.linkage",
    gettext_lazy("Copied your record's versions into the index that links agencies' old records to people"),
)
CERTIFICATE_READ = access_action_declare("certificate.read", gettext_lazy("Read a certificate that names you"))


def _check_purpose(purpose: str | None) -> str:
    value = (purpose or "").strip()
    if len(value) < 3:
        raise DomainError(
            "purpose_required",
            "State why you need this person's data (X-Purpose header or purpose parameter); it is shown to them.",
            field="purpose",
        )
    return value[:300]


def _end_of_day(day: date) -> datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


# The most frequent read of the registry, so written by hand: one indexed query with the parents'
# UINs joined in, instead of ORM compilation per call (which cost more than the query; see
# docs/performance.md). The person table's columns of the record, then the version, then the parents.
PERSON_COLUMNS = (*PersonFacts.columns(), "version", "updated_at")
PERSON_BY_UIN_SQL = (
    "SELECT " + ", ".join(f"p.{c}" for c in PERSON_COLUMNS) + ", m.uin, f.uin "
    f"FROM {Person._meta.db_table} p "
    f"LEFT JOIN {Person._meta.db_table} m ON m.id = p.mother_id "
    f"LEFT JOIN {Person._meta.db_table} f ON f.id = p.father_id "
    "WHERE p.uin = %s"
)


def _person_row(row: tuple[Any, ...]) -> PersonRecord:
    """Turn a PERSON_BY_UIN_SQL row into a record, whichever database returned it."""
    data: dict[str, Any] = dict(zip(PERSON_COLUMNS, row[: len(PERSON_COLUMNS)], strict=True))
    if isinstance(data["former_names"], str):
        data["former_names"] = orjson.loads(data["former_names"])
    updated = data.pop("updated_at")
    if isinstance(updated, str):
        updated = datetime.fromisoformat(updated)
    if updated.tzinfo is None:  # SQLite keeps aware datetimes as naive UTC
        updated = updated.replace(tzinfo=UTC)
    data["recorded_at"] = updated
    data["mother_uin"], data["father_uin"] = row[len(PERSON_COLUMNS)], row[len(PERSON_COLUMNS) + 1]
    return PersonRecord.model_validate(data)


def person_view(*, uin: str, actor: Principal, purpose: str | None, as_of: date | None = None) -> PersonRecord:
    """The record of one person, now or as it stood at the end of ``as_of``."""
    actor.require("person.read")
    why = _check_purpose(purpose)
    uin = uin_check(uin, field="uin")
    if as_of is None:
        with connection.cursor() as cursor:
            cursor.execute(PERSON_BY_UIN_SQL, [uin])
            row = cursor.fetchone()
        if row is None:
            raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field="uin")
        record = _person_row(row)
    else:
        version = (
            PersonVersion.objects.filter(person__uin=uin, recorded_at__lt=_end_of_day(as_of))
            .order_by("-version")
            .only("version", "data", "recorded_at")
            .first()
        )
        if version is None:
            if not Person.objects.filter(uin=uin).exists():
                raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field="uin")
            raise NotFound(
                "not_yet_registered", f"The person with UIN {uin} was not yet registered on {as_of}.", field="as_of"
            )
        record = PersonRecord.model_validate(
            {**version.data, "version": version.version, "recorded_at": version.recorded_at}
        )
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=PERSON_READ if as_of is None else PERSON_READ_AS_OF,
        subject=uin,
        purpose=why,
    )
    return record


def version_record(version: PersonVersion) -> PersonVersionRecord:
    """One stored version of a person's record, as the registry answers it."""
    return PersonVersionRecord(
        version=version.version,
        recorded_at=version.recorded_at,
        effective_date=version.effective_date,
        changed=version.changed,
        reason=version.reason,
        author=version.author,
        event_number=version.event.number if version.event else None,
        data=PersonFacts.model_validate(version.data),
    )


def person_history(*, uin: str, actor: Principal, purpose: str | None) -> PersonHistory:
    """Every version of a person's record, oldest first."""
    actor.require("person.read")
    why = _check_purpose(purpose)
    uin = uin_check(uin, field="uin")
    person = one_or_none(Person.objects.filter(uin=uin).only("id"))
    if person is None:
        raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field="uin")
    versions = PersonVersion.objects.filter(person=person).select_related("event").order_by("version")
    access_record(actor=actor.name, actor_kind=actor.kind, action=PERSON_HISTORY, subject=uin, purpose=why)
    return PersonHistory(uin=uin, versions=[version_record(v) for v in versions])


@dataclass(frozen=True)
class VersionRow:
    """One version of a person's record in the registry's order of versions (``cursor``)."""

    cursor: int
    uin: str
    version: int
    effective_date: date
    data: PersonFacts


def person_versions_page(*, after: int, limit: int, actor: Principal, purpose: str | None) -> list[VersionRow]:
    """The versions recorded after ``cursor`` ``after``, oldest first: what the record linkage reads to
    keep its index current. Each person named is recorded in the access log with the purpose."""
    actor.require("person.read")
    why = _check_purpose(purpose)
    limit = max(1, min(limit, 1000))
    versions = (
        PersonVersion.objects.filter(id__gt=after)
        .order_by("id")
        .values_list("id", "person__uin", "version", "effective_date", "data")[:limit]
    )
    rows = [VersionRow(i, uin, v, eff, PersonFacts.model_validate(data)) for i, uin, v, eff, data in versions]

    access_record_all(
        [Access(actor.name, actor.kind, PERSON_LINKAGE, uin, why, None) for uin in dict.fromkeys(r.uin for r in rows)]
    )
    return rows


def _tokens(query: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", rules.normalise_name(query)) if t][:6]


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError(
            "invalid_cursor", "This cursor is not valid; start again without it.", field="cursor"
        ) from exc


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """One page of a list, and the cursor of the next page if there is one."""

    items: list[Item]
    next_cursor: str | None


def _matching_ids(tokens: list[str], after: int, limit: int) -> list[int]:
    """Ids after ``after`` of persons whose name has a word beginning with each token: FTS5 on SQLite,
    the stored ``name_tsv`` on PostgreSQL (migration 0005); both split names at anything but a letter
    or digit, so the two engines answer alike."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " ".join(f'"{t}"*' for t in tokens)
            cursor.execute(
                "SELECT rowid FROM registry_person_fts WHERE registry_person_fts MATCH %s AND rowid > %s "
                "ORDER BY rowid LIMIT %s",
                [match, after, limit],
            )
        else:
            tsquery = " & ".join(f"{t}:*" for t in tokens)
            cursor.execute(
                "SELECT id FROM registry_person WHERE name_tsv @@ to_tsquery('simple', %s) "
                "AND id > %s ORDER BY id LIMIT %s",
                [tsquery, after, limit],
            )
        return [int(row[0]) for row in cursor.fetchall()]


def person_search(
    *, name: str, actor: Principal, purpose: str | None, cursor: str | None = None, limit: int = 20
) -> Page[PersonFacts]:
    """Persons whose names contain every word of ``name`` (each word may be a prefix, and the parts of
    a hyphenated name are words)."""
    actor.require("person.read")
    why = _check_purpose(purpose)
    tokens = _tokens(name)
    if not tokens:
        raise DomainError("invalid_query", "Type at least one letter of a name.", field="name")
    limit = max(1, min(limit, MAX_PAGE))
    ids = _matching_ids(tokens, _decode_cursor(cursor), limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    people = {p.pk: p for p in Person.objects.filter(pk__in=ids).select_related("mother", "father")}
    items = [person_snapshot(people[i]) for i in ids if i in people]
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=PERSON_SEARCH,
        subject="",
        purpose=why,
        detail={"query": name[:100], "results": [item.uin for item in items]},
    )
    return Page(items=items, next_cursor=_encode_cursor(ids[-1]) if more and ids else None)


def event_queue(
    *, actor: Principal, states: tuple[str, ...] = (EventState.DECLARED, EventState.CORRECTED, EventState.VALIDATED)
) -> QuerySet[LifeEvent]:
    actor.require("event.read")
    return LifeEvent.objects.filter(state__in=states).order_by("declared_at")


def event_get(*, event_id: int, actor: Principal) -> LifeEvent:
    actor.require("event.read")
    event = (
        LifeEvent.objects.select_related("subject", "partner")
        .prefetch_related("transitions", "duplicates", "certificates")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        raise NotFound("event_not_found", f"No declaration with id {event_id}.")
    return event


def event_list(
    *, actor: Principal, kind: str | None, state: str | None, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    actor.require("event.read")
    limit = max(1, min(limit, MAX_PAGE))
    qs = LifeEvent.objects.filter(pk__gt=_decode_cursor(cursor)).order_by("pk")
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[event_summary(e) for e in rows], next_cursor=_encode_cursor(rows[-1].pk) if more and rows else None
    )


def event_summary(event: LifeEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "state": event.state,
        "number": event.number,
        "event_date": event.event_date,
        "declared_at": event.declared_at,
        "declared_by": event.declared_by,
        "registered_at": event.registered_at,
        "timeliness": event.timeliness or None,
        "has_open_duplicates": event.has_open_duplicates,
        "rejection_reason": event.rejection_reason or None,
        "correction_note": event.correction_note or None,
        "subject_uin": event.subject.uin if event.subject_id and event.subject else None,
        "data": event.data,
    }


@dataclass(frozen=True, slots=True)
class Verification:
    status: str  # valid | revoked | superseded | tampered | unknown
    message: str
    claims: dict[str, Any]
    facts: list[list[str]]
    serial: str | None
    title: str = ""
    # The person a look-up by serial and date of birth matched, for the access log; never shown.
    subject: str = ""


def _certificate_verdict(certificate: Certificate, claims: dict[str, Any], subject: str = "") -> Verification:
    """What the registry says of one of its certificates, in the reader's language."""
    if certificate.status == CertificateStatus.REVOKED:
        message = _("This certificate was revoked: %(reason)s") % {"reason": certificate.status_reason}
    elif certificate.status == CertificateStatus.SUPERSEDED:
        message = _("This certificate was replaced by a newer one. Ask the holder for the newer certificate.")
    else:
        message = _("This certificate is genuine and valid.")
    kind = document_kind(certificate.kind)
    return Verification(
        status=str(certificate.status),
        message=message,
        claims=claims,
        facts=[list(fact) for fact in translated_facts(certificate.facts)],
        serial=certificate.serial,
        title=translated(kind.title) if kind else "",
        subject=subject,
    )


def certificate_verify(*, payload: str) -> Verification:
    """Check a credential from a certificate's QR code (the code, or the verification address that
    carries it): signature first (as an offline verifier would), then the registry's own status of
    the certificate."""
    token = code_from_text(payload)
    if token.upper().startswith("GOV21:"):
        token = token[6:]
    try:
        claims = verify_compact(token, registry_keys().public_jwks())
    except DomainError:
        return Verification(
            status="tampered",
            message=_("This code was not signed by the civil registry, or it was changed after it was signed."),
            claims={},
            facts=[],
            serial=None,
        )
    serial = str(claims.get("sn", ""))
    certificate = one_or_none(Certificate.objects.filter(serial=serial))
    if certificate is None:
        return Verification(
            status="unknown",
            message=_("The signature is genuine but this registry has no record of the certificate."),
            claims=claims,
            facts=[],
            serial=serial,
        )
    return _certificate_verdict(certificate, claims)


def certificate_lookup(serial: str, birth_date: date) -> Verification | None:
    """The certificate with this serial, or the newest of the registration with this number, if a
    person it certifies was born on ``birth_date``; None otherwise, whichever part is wrong, so the
    answer tells a guesser nothing. Printed serials are read without regard to case or spaces."""
    typed = "".join(serial.split()).upper()
    if not typed or len(typed) > 40:
        return None
    certificates = Certificate.objects.select_related("event__subject", "event__partner")
    certificate = one_or_none(certificates.filter(serial=typed)) or (
        certificates.filter(event__number=typed).order_by("-issued_at", "-pk").first()
    )
    if certificate is None:
        return None
    people = (certificate.event.subject, certificate.event.partner)
    holder = next((p for p in people if p is not None and p.birth_date == birth_date), None)
    if holder is None:
        return None
    return _certificate_verdict(certificate, {}, subject=holder.uin)


def certificate_get(*, serial: str, actor: Principal) -> Certificate:
    """A certificate and its facts; the read is recorded against the person it certifies."""
    actor.require("event.read")
    certificate = one_or_none(Certificate.objects.select_related("event__subject").filter(serial=serial))
    if certificate is None:
        raise NotFound("certificate_not_found", f"No certificate with serial {serial}.")
    subject = certificate.event.subject
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=CERTIFICATE_READ,
        subject=subject.uin if subject is not None else "",
        purpose="certificate copy",
        detail={"serial": certificate.serial},
    )
    return certificate


def population_count() -> int:
    return Person.objects.count()


def person_sample_adult(*, min_age: int = 18) -> str | None:
    """The UIN of some living adult (for demonstrations), or None if there is none."""
    cutoff = date.today() - timedelta(days=366 * min_age)  # noqa: DTZ011 - a civil date
    return (
        Person.objects.filter(status=PersonStatus.ALIVE, birth_date__lte=cutoff)
        .order_by("pk")
        .values_list("uin", flat=True)
        .first()
    )


@dataclass(frozen=True, slots=True)
class ResidentCount:
    """How many living persons have their address in a parish, or in one settlement of it
    (``settlement`` empty: the whole parish)."""

    parish: str
    settlement: str
    residents: int


def residents_count(*, parishes: list[str]) -> list[ResidentCount]:
    """The living persons whose address is in each of ``parishes``, as one total per parish and
    one per settlement of it: numbers only, nobody named, so the read concerns no one person."""
    rows = (
        Person.objects.filter(status=PersonStatus.ALIVE, address_parish__in=parishes)
        .values("address_parish", "address_settlement")
        .annotate(residents=Count("id"))
        .order_by("address_parish", "address_settlement")
    )
    totals = dict.fromkeys(parishes, 0)
    found = []
    for row in rows:
        totals[row["address_parish"]] += row["residents"]
        if row["address_settlement"]:
            found.append(ResidentCount(row["address_parish"], row["address_settlement"], row["residents"]))
    return [ResidentCount(code, "", count) for code, count in totals.items()] + found


# --- named residents, for a purpose the law allows -----------------------------------------------

PERSON_RESIDENTS = access_action_declare(
    "person.residents",
    gettext_lazy("Listed you, with your household, among the residents of a place struck by a disaster"),
)
RESIDENT_PURPOSES: tuple[str, ...] = get_args(ResidentPurpose)
# A young child and an old person are the first a welfare check looks for.
CHILD_UNDER = 5
AGED_FROM = 75
RESIDENTS_PAGE_MAX = 200


def household_key(parish: str, settlement: str, line: str) -> str:
    """A short name for the people who share an address line: the same for each of them, telling
    nothing the address does not; empty when the registry has no address line."""
    if not line.strip():
        return ""
    digest = hashlib.sha256("\x1f".join((parish, settlement, line.strip().casefold())).encode()).hexdigest()
    return f"H-{digest[:10]}"


def residents_named(
    *, places: list[tuple[str, str]], purpose: str, reason: str | None, page: int, size: int, actor: Principal
) -> NamedResidents:
    """The living persons whose address is in one of ``places`` ((parish, settlement) pairs), a page
    of ``size`` at a time, for ``purpose`` (one of ``RESIDENT_PURPOSES``) stated with ``reason``.
    Each person on the page is recorded in the access log with the purpose, before it is returned."""
    actor.require("person.read")
    why = _check_purpose(reason)
    if purpose not in RESIDENT_PURPOSES:
        raise DomainError(
            "purpose_not_allowed",
            f"Residents are named only for one of these purposes: {', '.join(RESIDENT_PURPOSES)}.",
            status=422,
            field="purpose",
        )
    if not places:
        raise DomainError("places_required", "Name at least one settlement.", status=422, field="places")
    size = max(1, min(size, RESIDENTS_PAGE_MAX))
    where = Q()
    for parish, settlement in places:
        where |= Q(address_parish=parish, address_settlement=settlement)
    living = Person.objects.filter(where, status=PersonStatus.ALIVE)
    total = living.count()
    pages = max(1, -(-total // size))
    if page > pages:
        raise DomainError(
            "page_out_of_range",
            f"There is no page {page}: the residents of these places fill {pages}.",
            status=422,
            field="page",
        )
    columns = ("uin", "given_names", "family_name", "sex", "birth_date", "address_parish", "address_settlement",
               "address_line")  # fmt: skip
    rows = list(
        living.order_by(
            "address_parish", "address_settlement", "address_line", "family_name", "given_names", "uin"
        ).values_list(*columns)[(page - 1) * size : page * size]
    )
    sizes = _household_sizes(rows)
    today = timezone.localdate()
    found = []
    for uin, given, family, sex, born, parish, settlement, line in rows:
        age = _years_between(born, today)
        found.append(
            NamedResident(
                uin=uin,
                given_names=given,
                family_name=family,
                sex=sex,
                birth_date=born,
                age=age,
                parish=parish,
                settlement=settlement,
                address_line=line,
                household=household_key(parish, settlement, line),
                household_size=sizes.get((parish, settlement, line.strip().casefold()), 1) if line.strip() else 1,
                child_under_5=age < CHILD_UNDER,
                aged_75_plus=age >= AGED_FROM,
            )
        )
    access_record_all(
        [Access(actor.name, actor.kind, PERSON_RESIDENTS, person.uin, why, {"purpose": purpose}) for person in found]
    )
    return NamedResidents(residents=found, total=total, page=page, pages=pages)


def _household_sizes(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, str], int]:
    """How many living persons share each address line of ``rows`` (keyed as ``household_key``
    reads a line: trimmed, without regard to case). The lines of the page's settlements are counted
    in the database and matched here: SQLite's lower() knows only ASCII, Python's casefold() every
    letter, and comparing in one place keeps "Rue Émile" and "rue émile" one household."""
    wanted = {(row[5], row[6], row[7].strip().casefold()) for row in rows if row[7].strip()}
    if not wanted:
        return {}
    where = Q()
    for parish, settlement in {(parish, settlement) for parish, settlement, _line in wanted}:
        where |= Q(address_parish=parish, address_settlement=settlement)
    counted = (
        Person.objects.filter(where, status=PersonStatus.ALIVE)
        .values_list("address_parish", "address_settlement", "address_line")
        .annotate(n=Count("id"))
        .order_by()
    )
    sizes: dict[tuple[str, str, str], int] = defaultdict(int)
    for parish, settlement, line, n in counted:
        key = (parish, settlement, line.strip().casefold())
        if key in wanted:
            sizes[key] += n
    return dict(sizes)


# --- numbers for the statistics office ------------------------------------------------------------

# Five-year age groups, the last open: "00-04", "05-09", ..., "85+".
AGE_GROUP_YEARS = 5
AGE_GROUPS_OPEN_AT = 85


def age_group(years: int) -> str:
    """The five-year age group of an age in whole years."""
    if years >= AGE_GROUPS_OPEN_AT:
        return f"{AGE_GROUPS_OPEN_AT}+"
    low = max(0, years) // AGE_GROUP_YEARS * AGE_GROUP_YEARS
    return f"{low:02d}-{low + AGE_GROUP_YEARS - 1:02d}"


def _years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years_before(day: date, years: int) -> date:
    if day.year - years < 1:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True, slots=True)
class PopulationCount:
    """Living persons with their address in a parish, of one sex and five-year age group."""

    parish: str
    sex: str
    age_group: str
    persons: int


@dataclass(frozen=True, slots=True)
class EventCount:
    """Registered life events of one kind in a parish and month, by the subject's sex and age group
    and by how soon the event was registered."""

    parish: str
    month: str
    sex: str
    age_group: str
    timeliness: str
    events: int


def _month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _population_grouped(persons: QuerySet[Person], *, as_of: date) -> dict[tuple[str, str, str], int]:
    """``persons`` born by ``as_of`` with a parish of address, counted by parish, sex and their age
    group on ``as_of`` (computed by the database from the date of birth)."""
    from django.db.models import Case, CharField, Value, When

    whens = []
    for low in range(0, AGE_GROUPS_OPEN_AT, AGE_GROUP_YEARS):
        # Aged below low + 5 on as_of: born after the day low + 5 years before it.
        whens.append(When(birth_date__gt=_years_before(as_of, low + AGE_GROUP_YEARS), then=Value(age_group(low))))
    rows = (
        persons.filter(birth_date__lte=as_of)
        .exclude(address_parish="")
        .annotate(group=Case(*whens, default=Value(f"{AGE_GROUPS_OPEN_AT}+"), output_field=CharField()))
        .values("address_parish", "sex", "group")
        .annotate(persons=Count("id"))
        .order_by()
    )
    return {(r["address_parish"], r["sex"], r["group"]): int(r["persons"]) for r in rows}


def population_numbers(*, as_of: date) -> list[PopulationCount]:
    """The living population on ``as_of`` by parish of address, sex and five-year age group, nobody
    named. The persons alive now come from the counts by month of birth that the database keeps
    (``PopulationMonth``, decision 0081): a month of birth wholly inside one age group on ``as_of``
    is added as it stands; the months an age boundary or ``as_of`` itself falls in, a few hundredths
    of the population, are counted person by person through the index on the date of birth, and so
    are those who died after ``as_of`` (alive on it, no longer counted). On any day the same numbers
    as counting every person, at a fraction of the cost."""
    boundaries = [_years_before(as_of, low) for low in range(AGE_GROUP_YEARS, AGE_GROUPS_OPEN_AT + 1, AGE_GROUP_YEARS)]
    split = {_month_key(day) for day in (*boundaries, as_of)}
    last_month = _month_key(as_of)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    kept = PopulationMonth.objects.filter(persons__gt=0).values_list("parish", "sex", "birth_month", "persons")
    for parish, sex, month, persons in kept.iterator(chunk_size=10_000):
        if month > last_month or month in split:
            continue
        first_day = date(int(month[:4]), int(month[5:7]), 1)
        counts[(parish, sex, age_group(_years_between(first_day, as_of)))] += persons
    parts = [Person.objects.filter(death_date__gt=as_of)]
    for month in sorted(split):  # one range each: a plan through the index on the date of birth
        year, number = int(month[:4]), int(month[5:7])
        first_day, last_day = date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
        parts.append(
            Person.objects.filter(birth_date__gte=first_day, birth_date__lte=last_day, death_date__isnull=True)
        )
    for part in parts:
        for key, persons in _population_grouped(part, as_of=as_of).items():
            counts[key] += persons
    return [PopulationCount(*key, persons=n) for key, n in sorted(counts.items()) if n]


def events_numbers(*, kind: str, year: int) -> list[EventCount]:
    """Registered events of ``kind`` that happened in ``year``, counted by parish (of birth for a
    birth, of the subject's address otherwise), month, sex, age group and timeliness: nobody named."""
    registered = (EventState.REGISTERED, EventState.CERTIFIED, EventState.CORRECTED)
    parish_field = "subject__birth_parish" if kind == EventKind.BIRTH else "subject__address_parish"
    rows = (
        LifeEvent.objects.filter(kind=kind, state__in=registered, event_date__year=year, subject__isnull=False)
        .values(parish_field, "event_date", "subject__sex", "subject__birth_date", "timeliness")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, str, str, str, str], int] = {}
    for r in rows:
        on: date = r["event_date"]
        key = (
            r[parish_field],
            f"{on.year:04d}-{on.month:02d}",
            r["subject__sex"],
            age_group(_years_between(r["subject__birth_date"], on)),
            r["timeliness"] or "",
        )
        counts[key] = counts.get(key, 0) + int(r["n"])
    return [EventCount(*key, events=n) for key, n in sorted(counts.items())]
