"""``/api/v1/exchange/``: the data tracker for the signed-in person.

``GET /usage`` (``findUsage``) answers in the shape of Estonia's data tracker, version 3: every
use of the caller's own data that a provider returned through the exchange. The caller is the
person signed in to the portal (its session cookie); API tokens and staff roles do not reach it,
because no role may list someone else's data uses through this endpoint. Who that person is, the
identity provider says: the platform's API mounts this router with a :class:`CitizenSession` given
identity's reading of the session, so the exchange imports nothing of identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.security import APIKeyCookie

from gov21.core.errors import Forbidden
from gov21.exchange import tracker


@dataclass(frozen=True, slots=True)
class Citizen:
    """The person whose data uses are listed."""

    uin: str


# The UIN of the person signed in to the portal by this request's session: None when no one signed
# in through the portal, "" when the signed-in account has no UIN (a public servant).
SessionUin = Callable[[HttpRequest], str | None]


class CitizenSession(APIKeyCookie):
    """The portal's session: a person who signed in through OpenID Connect and has a UIN."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, *, uin_of: SessionUin) -> None:
        super().__init__()
        self.uin_of = uin_of

    def authenticate(self, request: HttpRequest, key: str | None) -> Citizen | None:
        uin = self.uin_of(request) if key else None
        if uin is None:
            return None
        if not uin:
            raise Forbidden("no_uin", "Only a person with a national identification number has a data tracker.")
        return Citizen(uin=uin)


# Mounted by the platform's API with ``auth=CitizenSession(...)``; an operation reached without it
# is still refused by :func:`_citizen`.
router = Router(tags=["exchange"])


class UsageProof(Schema):
    chain: str = Field(..., description="The data-use chain of the provider's node that holds the record.")
    seq: int = Field(..., description="The record's place in that chain.")


class UsageOut(Schema):
    logTime: datetime = Field(..., description="When the provider returned the data.")
    receiver: str = Field(..., description="Name of the agency that received the data.")
    receiverCode: str = Field(..., description="X-Road client identifier of the receiving information system.")
    sender: str = Field(..., description="X-Road identifier of the service that returned the data.")
    actionCode: str = Field(..., description="Method and path of the request, e.g. GET /{uin}.")
    personCode: str = Field(..., description="UIN of the person the data is about.")
    accessReason: str = Field(..., description="The purpose the receiver gave (X-Road-Issue).")
    officialCode: str = Field(..., description="The official or system that asked (X-Road-UserId).")
    xroadRequestId: str = Field(..., description="X-Road message identifier (X-Road-Id).")
    proof: UsageProof


class UsageQuery(Schema):
    start: date | None = Field(None, description="First day included (YYYY-MM-DD), in the instance's time zone.")
    end: date | None = Field(None, description="Last day included (YYYY-MM-DD).")
    limit: int = Field(100, ge=1, le=tracker.USAGE_LIMIT_MAX)


def _citizen(request: HttpRequest) -> Citizen:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Citizen):
        raise Forbidden("forbidden", "Sign in to the portal to see the uses of your data.")
    return auth


@router.get(
    "/usage",
    response=list[UsageOut],
    operation_id="findUsage",
    summary="Every use of your data through the exchange, newest first",
)
def find_usage(request: HttpRequest, filters: Query[UsageQuery]) -> list[dict[str, Any]]:
    return tracker.usage_find(subject=_citizen(request).uin, start=filters.start, end=filters.end, limit=filters.limit)
