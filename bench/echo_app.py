"""The provider service of the exchange benchmark: a fixed JSON answer, as cheap as a service gets,
so that what is measured is the hops in front of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = (
    b'{"uin":"1234567890","given_names":"Marie Claire","family_name":"Baptiste","birth_date":"1990-04-12",'
    b'"sex":"F","status":"alive","address":{"parish":"XA-01","settlement":"Port Royal","line":"1 Bay Street"}}'
)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
