"""Writes: client keys, reports (checked, then recorded with their photos), and what an agency does
with a report (status and notes, reassignment, merging a duplicate)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from gov21.concerns.models import Category, ClientKey, Note, NoteKind, Notice, Photo, Report, Status
from gov21.concerns.photos import MAX_PHOTOS, CleanPhoto
from gov21.core.errors import DomainError, NotFound
from gov21.core.geography import geography
from gov21.exchange.contracts import agency_client, event_publish

logger = logging.getLogger(__name__)

KEY_PREFIX: Final = "o311_"
# Two reports of the same category closer than this may be merged as one problem.
MERGE_DISTANCE_M: Final = 200.0
_EARTH_RADIUS_M: Final = 6_371_000.0
_LANGUAGES: Final = frozenset(code for code, _name in settings.LANGUAGES)


# --- client keys -----------------------------------------------------------------------------------


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    key: str


def key_create(*, name: str, agency: str = "") -> IssuedKey:
    """A new client key; only its digest is kept, so the key is shown this once."""
    name = name.strip()
    if not name or len(name) > 120:
        raise DomainError("invalid_name", "Give the key a name of 1 to 120 characters.", status=400, field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ClientKey.objects.create(name=name, digest=key_digest(key), agency=agency.strip(), created_at=timezone.now())
    return IssuedKey(id=row.pk, key=key)


def key_revoke(*, key_id: int) -> None:
    updated = ClientKey.objects.filter(pk=key_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise NotFound("key_not_found", f"No key {key_id} is in use.")


# Every POST reads its key and its service: written by hand, these reads cost a fraction of what
# compiling them through the ORM did (profiled; decision 0070). A revoked key fails on its next use.
_KEY_SQL: Final = (
    f"SELECT id, name, agency FROM {ClientKey._meta.db_table} "  # noqa: S608
    "WHERE digest = %s AND revoked_at IS NULL"
)
_CATEGORY_SQL: Final = (
    "SELECT id, name, agency, subsystem, target_hours, attributes "  # noqa: S608
    f"FROM {Category._meta.db_table} WHERE code = %s AND active"
)


def key_check(key: str | None) -> ClientKey:
    """The live client key ``key`` is, or a 403 error (the status Open311 gives a bad api_key)."""
    row = None
    if key:
        with connection.cursor() as cursor:
            cursor.execute(_KEY_SQL, [key_digest(key)])
            row = cursor.fetchone()
    if row is None:
        raise DomainError("invalid_api_key", "api_key is missing, unknown or revoked.", status=403, field="api_key")
    return ClientKey(id=row[0], name=row[1], agency=row[2])


def _category_get(code: str) -> Category | None:
    """The active category ``code`` names, with the fields a report needs."""
    with connection.cursor() as cursor:
        cursor.execute(_CATEGORY_SQL, [code])
        row = cursor.fetchone()
    if row is None:
        return None
    attributes = row[5]
    if isinstance(attributes, str | bytes):  # SQLite hands JSON back as text; PostgreSQL decodes it
        attributes = json.loads(attributes)
    return Category(
        id=row[0], code=code, name=row[1], agency=row[2], subsystem=row[3], target_hours=row[4], attributes=attributes
    )


# --- reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """A report as submitted (by the Open311 API or the portal's form), not yet checked."""

    service_code: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    address_id: str = ""
    description: str = ""
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""


@lru_cache(maxsize=1)
def _bounds() -> tuple[float, float, float, float]:
    """The box (south, north, west, east) reports must lie in: the settlements' box widened by 0.2°."""
    lats = [s.lat for p in geography() for s in p.settlements]
    lons = [s.lon for p in geography() for s in p.settlements]
    return min(lats) - 0.2, max(lats) + 0.2, min(lons) - 0.2, max(lons) + 0.2


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


@lru_cache(maxsize=1)
def _settlements() -> tuple[tuple[float, float, float, str], ...]:
    """Each settlement as (latitude, longitude, cosine of latitude, parish code)."""
    return tuple((s.lat, s.lon, math.cos(math.radians(s.lat)), p.code) for p in geography() for s in p.settlements)


def parish_at(lat: float, lon: float) -> str:
    """The code of the parish whose nearest settlement is nearest to the point. Over an island's
    distances the flat-earth distance orders settlements as the great circle does, at a tenth of the
    cost of a haversine for each of them."""
    best, code = math.inf, ""
    for s_lat, s_lon, cos_lat, parish in _settlements():
        d = (lat - s_lat) ** 2 + ((lon - s_lon) * cos_lat) ** 2
        if d < best:
            best, code = d, parish
    return code


def media_url_check(url: str) -> str:
    """``url`` if it is an http(s) address another client could fetch; it is stored, never fetched
    here. An address naming a private, loopback or link-local host is refused all the same, so that
    no reader (or agency system) is led to fetch inside a government network."""
    url = url.strip()
    if not url:
        return ""
    bad = DomainError(
        "invalid_media_url", "media_url must be a public http or https address.", status=400, field="media_url"
    )
    if len(url) > 1000:
        raise bad
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError:
        raise bad from None
    if parts.scheme not in {"http", "https"} or not host or parts.username or parts.password:
        raise bad
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith((".localhost", ".local", ".internal", ".lan")):
        raise bad
    try:
        address = ipaddress.ip_address(lowered)
    except ValueError:
        if "." not in lowered or lowered.replace(".", "").isdigit():
            raise bad from None
        return url
    if not address.is_global:
        raise bad
    return url


def _attributes_check(category: Category, given: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for definition in category.attributes:
        code = definition["code"]
        value = given.get(code)
        if value in (None, "", []):
            if definition.get("required") and definition.get("variable", True):
                raise DomainError(
                    "missing_attribute", f"attribute[{code}] is required.", status=400, field=f"attribute[{code}]"
                )
            continue
        keys = {v["key"] for v in definition.get("values", [])}
        values = value if isinstance(value, list) else [value]
        if definition["datatype"] == "singlevaluelist" and (len(values) != 1 or values[0] not in keys):
            raise DomainError(
                "invalid_attribute",
                f"attribute[{code}] is not one of its values.",
                status=400,
                field=f"attribute[{code}]",
            )
        if definition["datatype"] == "multivaluelist" and not set(values) <= keys:
            raise DomainError(
                "invalid_attribute",
                f"attribute[{code}] is not one of its values.",
                status=400,
                field=f"attribute[{code}]",
            )
        kept[code] = values if definition["datatype"] == "multivaluelist" else str(values[0])[:500]
    return kept


def _text(value: str, limit: int, name: str) -> str:
    value = value.strip()
    if len(value) > limit:
        raise DomainError("too_long", f"{name} may be at most {limit} characters.", status=400, field=name)
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise DomainError("invalid_text", f"{name} holds control characters.", status=400, field=name)
    return value


def report_check(facts: ReportFacts) -> tuple[Category, dict[str, Any]]:
    """The category of a valid report and its checked fields, or the first error found."""
    category = _category_get(facts.service_code)
    if category is None:
        raise NotFound("unknown_service_code", f"No service has the code {facts.service_code!r}.", field="service_code")
    has_point = facts.lat is not None and facts.lon is not None
    if (facts.lat is None) != (facts.lon is None):
        raise DomainError("invalid_location", "Give both lat and long.", status=400, field="lat")
    if not has_point and not facts.address.strip() and not facts.address_id.strip():
        raise DomainError(
            "missing_location",
            "A location is required: lat and long, address_string or address_id.",
            status=400,
            field="lat",
        )
    parish = ""
    if has_point:
        assert facts.lat is not None and facts.lon is not None
        south, north, west, east = _bounds()
        if not (math.isfinite(facts.lat) and math.isfinite(facts.lon)) or not (
            south <= facts.lat <= north and west <= facts.lon <= east
        ):
            raise DomainError("outside_country", "The location is not in the country.", status=400, field="lat")
        parish = parish_at(facts.lat, facts.lon)
    email = _text(facts.email, 254, "email")
    if email and ("@" not in email or " " in email):
        raise DomainError("invalid_email", "email is not an email address.", status=400, field="email")
    fields: dict[str, Any] = {
        "lat": facts.lat,
        "lon": facts.lon,
        "parish": parish,
        "address": _text(facts.address, 300, "address_string"),
        "address_id": _text(facts.address_id, 100, "address_id"),
        "description": _text(facts.description, 4000, "description"),
        "media_url": media_url_check(facts.media_url),
        "attributes": _attributes_check(category, facts.attributes),
        "email": email,
        "phone": _text(facts.phone, 40, "phone"),
        "first_name": _text(facts.first_name, 100, "first_name"),
        "last_name": _text(facts.last_name, 100, "last_name"),
        "device_id": _text(facts.device_id, 100, "device_id"),
        "account_id": _text(facts.account_id, 100, "account_id"),
    }
    return category, fields


def report_submit(
    *,
    facts: ReportFacts,
    client_key: ClientKey | None = None,
    person_uin: str = "",
    photos: Sequence[CleanPhoto] = (),
    language: str = "en",
) -> Report:
    """Check a report and record it with its photos, routed to its category's agency. ``language``:
    the reporter's, in which they are told what the agency does with it."""
    category, fields = report_check(facts)
    language = language if language in _LANGUAGES else "en"
    if len(photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", f"At most {MAX_PHOTOS} photos.", status=400, field="photo")
    now = timezone.now()
    with transaction.atomic():
        report = Report.objects.create(
            token=secrets.token_urlsafe(18),
            category=category,
            agency=category.agency,
            requested_at=now,
            updated_at=now,
            expected_at=now + timedelta(hours=category.target_hours),
            client_key=client_key,
            person_uin=person_uin,
            language=language,
            **fields,
        )
        if photos:
            Photo.objects.bulk_create(
                Photo(report=report, jpeg=p.jpeg, width=p.width, height=p.height, created_at=now) for p in photos
            )
        _publish(report, "concern.reported", "reported")
    return report


# --- what the agency does --------------------------------------------------------------------------


def _publish(report: Report, event_type: str, change: str) -> None:
    """Publish the report as the public sees it (no reporter, no description) in the caller's
    transaction, to the agencies that receive reports (an outbox: both commit or neither)."""
    payload: dict[str, object] = {
        "service_request_id": str(report.pk),
        "service_code": report.category.code,
        "agency": report.agency,
        "status": report.status,
        "status_notes": report.status_notes,
        "change": change,
        "requested_datetime": report.requested_at.isoformat(),
        "updated_datetime": report.updated_at.isoformat(),
        "expected_datetime": report.expected_at.isoformat(),
        "lat": report.lat,
        "long": report.lon,
        "parish": report.parish,
    }
    if report.merged_into_id is not None:
        payload["merged_into"] = str(report.merged_into_id)
    try:
        event_publish(
            publisher=agency_client("PORTAL", "concerns"),
            event_type=event_type,
            payload=payload,
            idempotency_key=f"{report.pk}:{change}:{report.updated_at.isoformat()}",
        )
    except NotFound as error:
        if error.code != "unknown_event_type":
            raise
        # The exchange of this deployment is not set up: the desk works without it.
        logger.warning("event type %s is not registered; report %s not published", event_type, report.pk)


def report_notice_told(*, notice_id: int) -> bool:
    """Mark a notice as handed to the notification outbox; False when another worker took it first.
    Call it in the transaction that queues the message, so that it is told exactly once."""
    return bool(Notice.objects.filter(pk=notice_id, told_at__isnull=True).update(told_at=timezone.now()))


def _tell(reports: Iterable[Report], *, status: str, text: str, now: datetime) -> None:
    """Queue, in the caller's transaction, a notice to each reporter who can be told (signed in, or
    left an email address): their report's new status and/or the agency's public update."""
    Notice.objects.bulk_create(
        Notice(
            report=r,
            uin=r.person_uin,
            email=r.email,
            language=r.language or "en",
            status=status,
            text=text,
            created_at=now,
        )
        for r in reports
        if r.person_uin or r.email
    )


def report_for_agency(*, report_id: int, agency: str) -> Report:
    report = Report.objects.select_for_update(of=("self",)).select_related("category").filter(pk=report_id).first()
    if report is None or report.agency != agency:
        # Another agency's report is as unknown to the caller as a report that does not exist.
        raise NotFound("report_not_found", f"No report {report_id} is in your queue.")
    return report


def report_act(
    *, report_id: int, agency: str, author: str, status: str = "", public: str = "", internal: str = ""
) -> Report:
    """The agency changes a report's status and writes a public update and/or an internal note."""
    if status and status not in Status.values:
        raise DomainError("invalid_status", "status is open or closed.", status=400, field="status")
    public = _text(public, 1000, "public_update")
    internal = _text(internal, 4000, "internal_note")
    if not (status or public or internal):
        raise DomainError("nothing_to_do", "Give a status, a public update or an internal note.", status=400)
    now = timezone.now()
    with transaction.atomic():
        report = report_for_agency(report_id=report_id, agency=agency)
        if report.merged_into_id is not None:
            raise DomainError("report_merged", "This report was merged into another; act on that one.", status=409)
        changed = bool(status) and status != report.status
        if changed:
            report.closed_at = now if status == Status.CLOSED else None
        if status:
            report.status = status
        if public:
            report.status_notes = public
            Note.objects.create(
                report=report, kind=NoteKind.PUBLIC, text=public, author=author, status=status, created_at=now
            )
        if internal:
            Note.objects.create(report=report, kind=NoteKind.INTERNAL, text=internal, author=author, created_at=now)
        report.updated_at = now
        report.save(update_fields=["status", "status_notes", "updated_at", "closed_at"])
        followers: list[Report] = []
        if changed:
            # The duplicates follow the report's status, and their reporters are told so too.
            followers = list(report.duplicates.exclude(status=status))
            report.duplicates.update(status=status, updated_at=now, closed_at=report.closed_at)
        if changed or public:
            _tell([report], status=status if changed else "", text=public, now=now)
        if followers:
            _tell(followers, status=status, text=public, now=now)
        if changed or public:
            _publish(report, "concern.updated", "status" if changed else "update")
    return report


def report_reassign(*, report_id: int, agency: str, to_service_code: str, author: str) -> Report:
    """Move a report to another category, and so to that category's agency's queue."""
    category = Category.objects.filter(code=to_service_code, active=True).first()
    if category is None:
        raise NotFound("unknown_service_code", f"No service has the code {to_service_code!r}.", field="service_code")
    now = timezone.now()
    with transaction.atomic():
        report = report_for_agency(report_id=report_id, agency=agency)
        Note.objects.create(
            report=report,
            kind=NoteKind.INTERNAL,
            author=author,
            created_at=now,
            text=f"Reassigned from {report.category.code} ({report.agency}) to {category.code}.",
        )
        report.category, report.agency, report.updated_at = category, category.agency, now
        report.expected_at = report.requested_at + timedelta(hours=category.target_hours)
        report.save(update_fields=["category", "agency", "updated_at", "expected_at"])
        _publish(report, "concern.updated", "reassigned")
    return report


def report_merge(*, report_id: int, into_id: int, agency: str, author: str) -> Report:
    """Merge a duplicate into the report of the same problem (same category, within MERGE_DISTANCE_M):
    the duplicate closes and follows the other's status from then on."""
    if report_id == into_id:
        raise DomainError("invalid_merge", "A report cannot be merged into itself.", status=400, field="into")
    now = timezone.now()
    with transaction.atomic():
        first, second = sorted([report_id, into_id])
        rows = {r.pk: r for r in Report.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        duplicate, into = rows.get(report_id), rows.get(into_id)
        if duplicate is None or into is None or duplicate.agency != agency or into.agency != agency:
            raise NotFound("report_not_found", "Both reports must be in your queue.")
        if into.merged_into_id is not None or duplicate.merged_into_id is not None:
            raise DomainError("report_merged", "One of the reports is already merged.", status=409)
        if duplicate.category_id != into.category_id:
            raise DomainError("invalid_merge", "Only reports of the same service can be merged.", status=409)
        points = (duplicate.lat, duplicate.lon, into.lat, into.lon)
        if (
            points[0] is None
            or points[1] is None
            or points[2] is None
            or points[3] is None
            or distance_m(points[0], points[1], points[2], points[3]) > MERGE_DISTANCE_M
        ):
            raise DomainError(
                "too_far_to_merge",
                f"Reports more than {MERGE_DISTANCE_M:.0f} m apart are not the same problem.",
                status=409,
            )
        duplicate.merged_into, duplicate.status, duplicate.updated_at = into, into.status, now
        duplicate.closed_at = into.closed_at
        duplicate.status_notes = f"Merged into report {into.pk}."
        duplicate.save(update_fields=["merged_into", "status", "status_notes", "updated_at", "closed_at"])
        Note.objects.create(
            report=duplicate, kind=NoteKind.PUBLIC, text=duplicate.status_notes, author=author, created_at=now
        )
        _tell([duplicate], status="", text=duplicate.status_notes, now=now)
        _publish(duplicate, "concern.updated", "merged")
    return duplicate
