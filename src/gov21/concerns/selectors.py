"""Reads. The Open311 answers and the public map carry no personal data; the one read that does (a
report's contact details, for the agency handling it) is logged with ``audit.contracts.access_record``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gov21.audit.contracts import access_action_declare, access_record
from gov21.concerns.models import Category, Note, NoteKind, Notice, Photo, Report, Status
from gov21.core.errors import NotFound
from gov21.core.principal import Principal

# The Open311 default window and the most rows one answer holds.
DEFAULT_DAYS: Final = 90
MAX_ROWS: Final = 1000

CONTACT_READ = access_action_declare(
    "concerns.contact.read", gettext_lazy("Read your contact details on a problem you reported")
)

_PUBLIC = (
    "id",
    "status",
    "status_notes",
    "category__name",
    "category__code",
    "description",
    "agency",
    "requested_at",
    "updated_at",
    "expected_at",
    "address",
    "address_id",
    "lat",
    "lon",
    "media_url",
    "token",
    "merged_into_id",
    "parish",
)


@dataclass(frozen=True, slots=True)
class RequestQuery:
    ids: Sequence[int] = ()
    service_codes: Sequence[str] = ()
    statuses: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    agency: str = ""
    limit: int = MAX_ROWS


def categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("group", "name"))


def category_get(code: str) -> Category:
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        raise NotFound("unknown_service_code", f"No service has the code {code!r}.", field="service_code")
    return category


def requests_select(query: RequestQuery) -> list[dict[str, Any]]:
    """Public rows of the reports the query asks for, newest first. Without ids or dates, the last
    DEFAULT_DAYS days (as Open311 asks)."""
    rows = Report.objects.all()
    if query.ids:
        rows = rows.filter(pk__in=list(query.ids))
    elif query.start is None and query.end is None:
        rows = rows.filter(requested_at__gte=timezone.now() - timedelta(days=DEFAULT_DAYS))
    if query.start is not None:
        rows = rows.filter(requested_at__gte=query.start)
    if query.end is not None:
        rows = rows.filter(requested_at__lte=query.end)
    if query.service_codes:
        rows = rows.filter(category__code__in=list(query.service_codes))
    if query.statuses:
        rows = rows.filter(status__in=list(query.statuses))
    if query.agency:
        rows = rows.filter(agency=query.agency)
    return list(rows.order_by("-requested_at", "-id").values(*_PUBLIC)[: query.limit])


def request_get(report_id: int) -> dict[str, Any]:
    row: dict[str, Any] | None = Report.objects.filter(pk=report_id).values(*_PUBLIC).first()
    if row is None:
        raise NotFound("request_not_found", f"No service request {report_id}.", field="service_request_id")
    return row


def request_by_token(token: str) -> dict[str, Any]:
    row = Report.objects.filter(token=token).values("id", "token").first()
    if row is None:
        raise NotFound("token_not_found", "No service request has this token.", field="token")
    return dict(row)


def public_updates(report_id: int) -> list[Note]:
    return list(Note.objects.filter(report_id=report_id, kind=NoteKind.PUBLIC).order_by("created_at", "id"))


def photo_ids(report_id: int) -> list[int]:
    return list(Photo.objects.filter(report_id=report_id).order_by("id").values_list("id", flat=True))


def photo_get(photo_id: int) -> bytes:
    """A photo's JPEG (photos are public, as the report is; they carry no metadata)."""
    jpeg = Photo.objects.filter(pk=photo_id, report__merged_into__isnull=True).values_list("jpeg", flat=True).first()
    if jpeg is None:
        raise NotFound("photo_not_found", "No such photo.")
    return bytes(jpeg)


def reports_of_person(uin: str) -> list[dict[str, Any]]:
    """The signed-in person's own reports (their own data, read by them)."""
    return list(Report.objects.filter(person_uin=uin).order_by("-requested_at").values(*_PUBLIC)[:200])


def queue(*, agency: str, status: str = "open", limit: int = 200) -> list[dict[str, Any]]:
    rows = Report.objects.filter(agency=agency, merged_into__isnull=True)
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("expected_at", "id").values(*_PUBLIC)[:limit])


def overdue(row: dict[str, Any], now: datetime | None = None) -> bool:
    return bool(row["status"] == "open" and row["expected_at"] < (now or timezone.now()))


def report_contact(*, report_id: int, agency: str, reader: Principal, purpose: str) -> dict[str, str]:
    """Who reported a problem (what they chose to give), for the agency handling it; the read is logged."""
    row = (
        Report.objects.filter(Q(pk=report_id) & Q(agency=agency))
        .values("person_uin", "email", "phone", "first_name", "last_name")
        .first()
    )
    if row is None:
        raise NotFound("report_not_found", f"No report {report_id} is in your queue.")
    if row["person_uin"]:
        access_record(
            actor=reader.name,
            actor_kind=str(reader.kind),
            action=CONTACT_READ,
            subject=row["person_uin"],
            purpose=purpose,
            detail={"report": report_id},
        )
    return {key: str(value) for key, value in row.items()}


def internal_notes(report_id: int) -> list[Note]:
    return list(Note.objects.filter(report_id=report_id, kind=NoteKind.INTERNAL).order_by("created_at", "id"))


@dataclass(frozen=True, slots=True)
class ReportNotice:
    """What one reporter is told about their report, in their language: the portal inbox of
    ``uin`` (when they were signed in) and email to ``email`` (when they left one)."""

    id: int
    report_id: int
    uin: str
    email: str
    language: str
    subject: str
    body: str
    link: str


def _notice_text(notice: Notice) -> tuple[str, str]:
    report = notice.report
    with translation.override(notice.language or "en"):
        facts = {
            "number": report.pk,
            "category": _(report.category.name),
            "date": formats.date_format(timezone.localtime(report.requested_at), "DATE_FORMAT"),
        }
        if notice.status == Status.CLOSED:
            subject = _("Your report %(number)s was closed") % facts
            body = _("The problem you reported on %(date)s (%(category)s) was closed by the agency responsible.")
        elif notice.status == Status.OPEN:
            subject = _("Your report %(number)s was opened again") % facts
            body = _("The problem you reported on %(date)s (%(category)s) was opened again by the agency responsible.")
        else:
            subject = _("News about your report %(number)s") % facts
            body = _("The agency responsible for the problem you reported on %(date)s (%(category)s) wrote an update.")
        body %= facts
        if notice.text:
            body += "\n\n" + _("What they wrote: %(text)s") % {"text": notice.text}
    return subject, body


def report_notices_pending(*, limit: int = 100) -> list[ReportNotice]:
    """Notices reporters must be given and have not been yet, oldest first."""
    rows = (
        Notice.objects.select_related("report__category").filter(told_at__isnull=True).order_by("id")[: max(1, limit)]
    )
    notices = []
    for notice in rows:
        subject, body = _notice_text(notice)
        notices.append(
            ReportNotice(
                id=notice.pk,
                report_id=notice.report_id,
                uin=notice.uin,
                email=notice.email,
                language=notice.language,
                subject=subject,
                body=body,
                link=f"/reports/{notice.report_id}/",
            )
        )
    return notices
