"""The reference for the person-read benchmark: a bare Django view that runs the same SQL as
``GET /api/v1/registry/persons/{uin}`` (token lookup, person with parents, access-log insert) without
gov21's API layer, schemas or error mapping. Only mounted by ``bench_settings``."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone

from gov21.audit.models import AccessRecord
from gov21.identity.models import ApiToken
from gov21.registry.models import Person


def bare_person(request: HttpRequest, uin: str) -> HttpResponse:
    token = request.headers.get("Authorization", "")[7:]
    row = (
        ApiToken.objects.filter(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .only("name", "role")
        .first()
    )
    if row is None:
        return HttpResponse(status=401)
    p = Person.objects.select_related("mother", "father").filter(uin=uin).first()
    if p is None:
        return HttpResponse(status=404)
    AccessRecord.objects.create(
        at=timezone.now(),
        actor=row.name,
        actor_kind="token",
        action="person.read",
        subject=uin,
        purpose=request.headers.get("X-Purpose", ""),
        detail={},
    )
    return JsonResponse(
        {
            "uin": p.uin,
            "given_names": p.given_names,
            "family_name": p.family_name,
            "former_names": p.former_names,
            "sex": p.sex,
            "birth_date": p.birth_date,
            "birth_parish": p.birth_parish,
            "birth_settlement": p.birth_settlement,
            "mother_uin": p.mother.uin if p.mother else None,
            "father_uin": p.father.uin if p.father else None,
            "citizenship": p.citizenship,
            "address_parish": p.address_parish,
            "address_settlement": p.address_settlement,
            "address_line": p.address_line,
            "address_since": p.address_since,
            "marital_status": p.marital_status,
            "status": p.status,
            "death_date": p.death_date,
            "version": p.version,
            "recorded_at": p.updated_at,
        }
    )


urlpatterns = [
    path("bench/bare/persons/<str:uin>", bare_person),
    path("", include("gov21.urls")),
]
