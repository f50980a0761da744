"""Who used my data: every provider answer about a person, recorded by the provider's gateway in
a hash chain of its own (``uses:<node>``), listed for that person.

:func:`usage_find` answers in the shape of Estonia's data tracker (Andmejälgija) ``findUsage``
(version 3), so a citizen portal written for that tracker can show our records unchanged."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Final

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from gov21.core.errors import DomainError
from gov21.exchange.models import DataUse, Member, Service
from gov21.exchange.router import route_seen_as

USAGE_LIMIT_MAX: Final = 500


def _member_of(client_or_service: str) -> str:
    return "/".join(client_or_service.split("/")[:3])


def _member_names() -> dict[str, str]:
    return {str(m): m.name for m in Member.objects.all()}


def _words(name: str) -> str:
    """A name the directory holds, in the reader's language when the platform declared it (the
    demo nation's agencies, the titles of the services its apps publish); an administrator's own
    name for an agency is shown as they wrote it."""
    return gettext(name) if name else name


def member_name(client_or_service: str) -> str:
    """The agency behind a client or service identifier, in the reader's language where the
    platform owns the name; the identifier itself when the directory does not know it."""
    parts = client_or_service.split("/")
    if len(parts) < 3:
        return client_or_service
    found = Member.objects.filter(instance=parts[0], member_class=parts[1], code=parts[2]).first()
    return _words(found.name) if found is not None else _member_of(client_or_service)


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
    """Newest first, with the names a person understands, in their language: the agency that
    asked, the agency that answered, the title of the service and what of theirs was read (the
    ``seen_as`` of the route that answered, else the service's title)."""
    rows = list(_uses(subject=subject, start=start, end=end, limit=limit))
    names = _member_names()
    services: dict[str, Service] = {}
    if rows:
        for known in Service.objects.select_related("subsystem__member").filter(
            code__in={row.service.rsplit("/", 1)[-1] for row in rows}
        ):
            services[str(known)] = known
    result = []
    for row in rows:
        member = _member_of(row.client)
        provider = _member_of(row.service)
        service = services.get(row.service)
        title = _words(service.title) if service is not None and service.title else row.service
        seen_as = route_seen_as(handler_url=service.base_url, method=row.method, path=row.path) if service else ""
        result.append(
            {
                "at": row.at,
                "client": row.client,
                "agency": _words(names.get(member, "")) or member,
                "service": row.service,
                "service_title": title,
                "seen_as": seen_as or title,
                "provider": _words(names.get(provider, "")) or provider,
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
