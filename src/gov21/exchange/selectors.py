"""Reads of the exchange's directory: a member, subsystem or service by its identifier, and for the
back-office pages the members of an instance with their systems and services, its nodes with their
signing certificates, the configuration last published, the access rights per service, and the
partner instances trusted."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from gov21.core.errors import DomainError, NotFound
from gov21.exchange.directory import client_parse
from gov21.exchange.ids import ServiceId
from gov21.exchange.models import (
    AccessRight,
    Member,
    Node,
    PublishedConf,
    Service,
    SigningCert,
    Subsystem,
    TrustedInstance,
)


def members_with_services(*, instance: str) -> list[Member]:
    """The members of ``instance``, each with its subsystems and their services, all by code."""
    return list(
        Member.objects.filter(instance=instance)
        .prefetch_related(
            Prefetch("subsystems", queryset=Subsystem.objects.order_by("code")),
            Prefetch("subsystems__services", queryset=Service.objects.order_by("code")),
        )
        .order_by("member_class", "code")
    )


def government_members(*, instance: str) -> list[tuple[str, str]]:
    """The government members of ``instance`` (ministries, departments, agencies): code and name,
    the name in the reader's language where the platform declared it, by name."""
    from django.utils.translation import gettext

    found = Member.objects.filter(instance=instance, member_class="GOV").values_list("code", "name")
    return sorted(((code, gettext(name) if name else code) for code, name in found), key=lambda m: m[1].casefold())


def nodes_with_certs(*, instance: str) -> list[Node]:
    """The nodes of ``instance`` by code, each with its owner and its signing certificates."""
    certs = SigningCert.objects.select_related("member").order_by("member__code", "requested_at")
    return list(
        Node.objects.filter(instance=instance)
        .select_related("owner")
        .prefetch_related(Prefetch("signing_certs", queryset=certs))
        .order_by("code")
    )


def conf_latest(*, instance: str) -> PublishedConf | None:
    """The configuration of ``instance`` published last, or None before the first."""
    return PublishedConf.objects.filter(instance=instance).order_by("-serial").first()


def services_with_rights(*, instance: str) -> list[Service]:
    """The services of ``instance``'s members, by member, subsystem and code, each with who may call it."""
    rights = AccessRight.objects.order_by("subject", "method", "path")
    return list(
        Service.objects.filter(subsystem__member__instance=instance)
        .select_related("subsystem__member")
        .prefetch_related(Prefetch("rights", queryset=rights))
        .order_by("subsystem__member__code", "subsystem__code", "code")
    )


def trusted_instances() -> list[TrustedInstance]:
    """The partner instances whose members this one trusts, by name."""
    return list(TrustedInstance.objects.order_by("instance"))


def member_get(ident: str) -> Member:
    cid = client_parse(ident, "member")
    member = Member.objects.filter(instance=cid.instance, member_class=cid.member_class, code=cid.member_code).first()
    if member is None:
        raise NotFound("unknown_member", f"No member {cid.member}")
    return member


def subsystem_get(ident: str) -> Subsystem:
    cid = client_parse(ident, "subsystem")
    if cid.subsystem is None:
        raise DomainError("invalid_identifier", "A subsystem identifier has four parts", field="subsystem")
    sub = Subsystem.objects.filter(
        member__instance=cid.instance,
        member__member_class=cid.member_class,
        member__code=cid.member_code,
        code=cid.subsystem,
    ).first()
    if sub is None:
        raise NotFound("unknown_subsystem", f"No subsystem {cid}")
    return sub


def service_get(ident: str) -> Service:
    try:
        sid = ServiceId.parse(ident)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{ident!r} is not a service identifier", field="service") from exc
    service = Service.objects.filter(subsystem=subsystem_get(str(sid.provider)), code=sid.code).first()
    if service is None:
        raise NotFound("unknown_service", f"No service {sid}")
    return service


def service_field_titles(ident: str) -> dict[str, str]:
    """The title of every property of the schemas in the OpenAPI document the directory holds for
    service ``ident``, by property name (the first schema that titles a name wins); empty for a
    service the directory does not know. What a reader sees instead of a field's name."""
    try:
        sid = ServiceId.parse(ident)
    except Exception:
        return {}
    document = (
        Service.objects.filter(
            subsystem__member__instance=sid.provider.instance,
            subsystem__member__member_class=sid.provider.member_class,
            subsystem__member__code=sid.provider.member_code,
            subsystem__code=sid.provider.subsystem,
            code=sid.code,
        )
        .values_list("openapi", flat=True)
        .first()
    )
    titles: dict[str, str] = {}
    schemas = ((document or {}).get("components") or {}).get("schemas") or {}
    for schema in schemas.values():
        for name, prop in (schema.get("properties") or {}).items():
            title = prop.get("title") if isinstance(prop, dict) else None
            if isinstance(title, str) and title:
                titles.setdefault(name, title)
    return titles


@dataclass(frozen=True, slots=True)
class DirectoryNumbers:
    """An instance's directory in numbers: members (government agencies among them), information
    systems, services (those not disabled), and services at least one access right opens."""

    members: int
    agencies: int
    subsystems: int
    services: int
    services_with_clients: int


def directory_numbers(*, instance: str) -> DirectoryNumbers:
    """A few SQL counts over the directory."""
    from django.db.models import Count, Q

    from gov21.exchange.models import Subsystem

    members = Member.objects.filter(instance=instance).aggregate(
        members=Count("pk"), agencies=Count("pk", filter=Q(member_class="GOV"))
    )
    subsystems = Subsystem.objects.filter(member__instance=instance).count()
    services = Service.objects.filter(subsystem__member__instance=instance, disabled=False)
    return DirectoryNumbers(
        members=members["members"],
        agencies=members["agencies"],
        subsystems=subsystems,
        services=services.count(),
        services_with_clients=services.filter(rights__isnull=False).distinct().count(),
    )
