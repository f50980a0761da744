"""Writes of the access rights: which client or group may call which method and path of a service.
Each republishes the signed configuration in its transaction."""

from __future__ import annotations

from django.db import transaction

from gov21.core.errors import DomainError, NotFound
from gov21.exchange.directory import HTTP_METHODS, client_parse, conf_publish
from gov21.exchange.models import AccessRight, Group
from gov21.exchange.selectors import service_get


def _subject(text: str) -> str:
    if text.startswith("group:"):
        inner = client_parse(text.removeprefix("group:") + "/x", "subject")  # group:XA/code
        Group.objects.get_or_create(instance=inner.instance, code=inner.member_class)
        return text
    return str(client_parse(text, "subject"))


@transaction.atomic
def right_grant(*, service: str, subject: str, method: str = "*", path: str = "/**", by: str = "") -> AccessRight:
    method = method.upper()
    if method != "*" and method not in HTTP_METHODS:
        raise DomainError("invalid_method", f"Unknown HTTP method {method!r}", field="method")
    if not path.startswith("/") or len(path) > 300:
        raise DomainError("invalid_path", "An endpoint path starts with /", field="path")
    right, _ = AccessRight.objects.get_or_create(
        service=service_get(service), subject=_subject(subject), method=method, path=path, defaults={"granted_by": by}
    )
    conf_publish()
    return right


@transaction.atomic
def right_revoke(*, service: str, subject: str, method: str = "*", path: str = "/**") -> int:
    deleted, _ = AccessRight.objects.filter(
        service=service_get(service), subject=_subject(subject), method=method.upper(), path=path
    ).delete()
    if not deleted:
        raise NotFound("unknown_right", "No such access right")
    conf_publish()
    return deleted
