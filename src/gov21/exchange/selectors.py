"""Reads of the exchange's directory for its back-office pages: the members of an instance with
their systems and services, its nodes with their signing certificates, the configuration last
published, the access rights per service, and the partner instances trusted."""

from __future__ import annotations

from django.db.models import Prefetch

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
