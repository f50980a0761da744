"""Who used my data: every provider answer about a person, recorded by the provider's gateway in
a hash chain of its own (``uses:<node>``), listed for that person.

:func:`usage_find` answers in the shape of Estonia's data tracker (Andmejälgija) ``findUsage``
(version 3), so a citizen portal written for that tracker can show our records unchanged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Final

from django.db.models import QuerySet
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.exchange.models import DataUse, Member, Service

USAGE_LIMIT_MAX: Final = 500


def _member_of(client_or_service: str) -> str:
    return "/".join(client_or_service.split("/")[:3])


def _member_names() -> dict[str, str]:
    return {str(m): m.name for m in Member.objects.all()}


def _day_start(day: date) -> datetime:
    # A day as the people of the instance count it, not as UTC does.
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _uses(*, subject: str, start: date | None, end: date | None, limit: int) -> QuerySet[DataUse]:
    if not 1 <= limit <= USAGE_LIMIT_MAX:
        raise DomainError("invalid_limit", f"limit must be between 1 and {USAGE_LIMIT_MAX}.", field="limit")
    if start is not None and end is not None and end < start:
        raise DomainError("invalid_range", "end must be on or after start.", field="end")
    rows = DataUse.objects.filter(subject=subject)
    if start is not None:
        rows = rows.filter(at__gte=_day_start(start))
    if end is not None:
        rows = rows.filter(at__lt=_day_start(end + timedelta(days=1)))
    return rows.order_by("-at", "-seq")[:limit]


def uses_for(
    *, subject: str, limit: int = 200, start: date | None = None, end: date | None = None
) -> list[dict[str, Any]]:
    """Newest first, with the names a person understands: the agency that asked, the agency that
    answered, and the title of the service."""
    rows = list(_uses(subject=subject, start=start, end=end, limit=limit))
    names = _member_names()
    titles: dict[str, str] = {}
    if rows:
        for service in Service.objects.select_related("subsystem__member").filter(
            code__in={row.service.rsplit("/", 1)[-1] for row in rows}
        ):
            titles[str(service)] = service.title
    result = []
    for row in rows:
        member = _member_of(row.client)
        provider = _member_of(row.service)
        result.append(
            {
                "at": row.at,
                "client": row.client,
                "agency": names.get(member, member),
                "service": row.service,
                "service_title": titles.get(row.service) or row.service,
                "provider": names.get(provider, provider),
                "method": row.method,
                "path": row.path,
                "user_id": row.user_id,
                "purpose": row.issue,
                "message_id": row.message_id,
                "chain": row.chain,
                "seq": row.seq,
            }
        )
    return result


def usage_find(*, subject: str, start: date | None, end: date | None, limit: int) -> list[dict[str, Any]]:
    """``findUsage``: the uses of ``subject``'s data between ``start`` and ``end`` (whole days,
    both included), newest first. Each names the record that proves it (chain and sequence
    number), whose inclusion in a signed tree head ``chain.inclusion`` shows once sealed."""
    rows = list(_uses(subject=subject, start=start, end=end, limit=limit))
    names = _member_names()
    return [
        {
            "logTime": row.at,
            "receiver": names.get(_member_of(row.client), _member_of(row.client)),
            "receiverCode": row.client,
            "sender": row.service,
            "actionCode": f"{row.method} {row.path}",
            "personCode": row.subject,
            "accessReason": row.issue,
            "officialCode": row.user_id,
            "xroadRequestId": row.message_id,
            "proof": {"chain": row.chain, "seq": row.seq},
        }
        for row in rows
    ]
