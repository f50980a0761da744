"""The HTTP edge: RFC 9457 problem details for every error an API returns."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from gov21.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gov21.example/problems/"


def problem(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    field: str | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=PROBLEM_CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="gov21"'
    return response


def problem_from_error(request: HttpRequest | None, error: DomainError) -> HttpResponse:
    return problem(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        field=error.field,
        instance=request.path if request is not None else None,
        extra=error.extra,
    )
