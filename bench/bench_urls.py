"""The reference for the person-read benchmark: a bare Django view that does the same work as
``GET /api/v1/registry/persons/{uin}`` (token lookup, person with parents' UINs, an access-log entry
appended to its chain) without gov21's API layer, schemas, checks or error mapping. Only mounted by
``bench_settings``."""

from __future__ import annotations

import hashlib

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone

from gov21.audit.contracts import access_record
from gov21.identity.selectors import TOKEN_SQL
from gov21.registry.selectors import PERSON_BY_UIN_SQL, PERSON_COLUMNS


def bare_person(request: HttpRequest, uin: str) -> HttpResponse:
    token = request.headers.get("Authorization", "")[7:]
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            TOKEN_SQL, [hashlib.sha256(token.encode()).hexdigest(), ops.adapt_datetimefield_value(timezone.now())]
        )
        caller = cursor.fetchone()
        if caller is None:
            return HttpResponse(status=401)
        cursor.execute(PERSON_BY_UIN_SQL, [uin])
        row = cursor.fetchone()
        if row is None:
            return HttpResponse(status=404)
    with transaction.atomic():
        access_record(
            actor=f"token:{caller[0]}",
            actor_kind="token",
            action="person.read",
            subject=uin,
            purpose=request.headers.get("X-Purpose", ""),
        )
    return JsonResponse(dict(zip((*PERSON_COLUMNS, "mother_uin", "father_uin"), row, strict=True)))


urlpatterns = [
    path("bench/bare/persons/<str:uin>", bare_person),
    path("", include("gov21.urls")),
]
