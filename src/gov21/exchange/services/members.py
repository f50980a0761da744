"""Writes of the directory's members: members of this instance, their subsystems (information
systems) and the services they provide, and groups of clients. Each republishes the signed
configuration in its transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from gov21.core.errors import DomainError
from gov21.exchange.directory import client_parse, conf_publish, instance_code
from gov21.exchange.ids import MEMBER_CLASSES, ServiceId
from gov21.exchange.models import Group, Member, Service, Subsystem
from gov21.exchange.selectors import member_get, subsystem_get


@transaction.atomic
def member_add(*, ident: str, name: str) -> Member:
    cid = client_parse(ident, "member")
    if cid.subsystem is not None:
        raise DomainError("invalid_identifier", "A member identifier has three parts", field="member")
    if cid.instance != instance_code():
        raise DomainError(
            "foreign_instance", f"This directory registers members of {instance_code()} only", field="member"
        )
    if cid.member_class not in MEMBER_CLASSES:
        raise DomainError("invalid_member_class", f"Member class must be one of {', '.join(MEMBER_CLASSES)}")
    member, _ = Member.objects.get_or_create(
        instance=cid.instance, member_class=cid.member_class, code=cid.member_code, defaults={"name": name}
    )
    conf_publish()
    return member


@transaction.atomic
def subsystem_add(*, ident: str, name: str = "", node: str = "") -> Subsystem:
    cid = client_parse(ident, "subsystem")
    if cid.subsystem is None:
        raise DomainError("invalid_identifier", "A subsystem identifier has four parts", field="subsystem")
    member = member_get(str(cid.member))
    sub, created = Subsystem.objects.get_or_create(
        member=member, code=cid.subsystem, defaults={"name": name, "node": node or _default_node()}
    )
    if not created and node and sub.node != node:
        sub.node = node
        sub.save(update_fields=["node"])
    conf_publish()
    return sub


def _default_node() -> str:
    from gov21.exchange.node import this_node

    return this_node().code


@transaction.atomic
def service_add(
    *, ident: str, base_url: str, openapi: dict[str, Any] | None = None, title: str = "", timeout_s: int = 30
) -> Service:
    try:
        sid = ServiceId.parse(ident)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{ident!r} is not a service identifier", field="service") from exc
    # Empty: the service is served by another node, whose own mapping (LocalService) says where.
    if base_url and not base_url.startswith(("http://", "https://", "local:")):
        raise DomainError("invalid_url", "The service address must be http(s)://… or local:<name>", field="base_url")
    if openapi is not None and not isinstance(openapi.get("paths"), dict):
        raise DomainError("invalid_openapi", "The OpenAPI 3 document has no paths", field="openapi")
    sub = subsystem_get(str(sid.provider))
    service, created = Service.objects.get_or_create(
        subsystem=sub,
        code=sid.code,
        defaults={"base_url": base_url, "openapi": openapi or {}, "title": title, "timeout_s": timeout_s},
    )
    if not created:
        service.base_url, service.title, service.timeout_s = base_url, title or service.title, timeout_s
        if openapi is not None:
            service.openapi = openapi
        service.save()
    conf_publish()
    return service


@transaction.atomic
def group_set(*, ident: str, members: list[str], description: str = "") -> Group:
    instance, _, code = ident.removeprefix("group:").partition("/")
    if instance != instance_code() or not code:
        raise DomainError("invalid_identifier", "A group is named group:<instance>/<code>", field="group")
    group, _ = Group.objects.get_or_create(instance=instance, code=code)
    group.members = sorted({str(client_parse(m, "members")) for m in members})
    group.description = description or group.description
    group.save()
    conf_publish()
    return group
