"""The data embassy on the exchange: a partner government's backup node stores, reads, lists and
removes the sealed objects of its backups here (:mod:`gov21.continuity.embassy` keeps them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from gov21.continuity import embassy
from gov21.exchange.contracts import RAW, Call, ServiceRouter

store = ServiceRouter(
    "continuity.embassy", title="Data embassy: partner governments' encrypted backups, kept as opaque objects"
)
store.publish(
    "EXCHANGE/data-embassy/store",
    title="Data embassy: partner governments' encrypted backups, kept as opaque objects",
)


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stored(Schema):
    key: str
    size: int


class Listing(Schema):
    items: list[str]


class Inventory(Schema):
    chunks: list[str]
    used_bytes: int
    quota_bytes: int


@store.put(
    "/objects/{key:path}",
    body=RAW,
    response=Stored,
    status=201,
    summary="Store one object (a sealed chunk or a signed manifest)",
)
def object_put(call: Call, key: str, body: bytes) -> Stored:
    return Stored(key=key, size=embassy.object_put(client=call.client, key=key, data=body))


@store.get("/objects/{key:path}", response=RAW, media_type="application/octet-stream", summary="Read one object back")
def object_get(call: Call, key: str) -> bytes:
    return embassy.object_get(client=call.client, key=key)


@store.delete("/objects/{key:path}", response=None, status=204, summary="Remove one object")
def object_delete(call: Call, key: str) -> None:
    embassy.object_delete(client=call.client, key=key)


@store.get("/list/{prefix:path}", response=Listing, summary="The objects under a prefix (manifests, chunks/ab)")
def objects_list(call: Call, prefix: str) -> Listing:
    return Listing(items=embassy.objects_list(client=call.client, prefix=prefix))


@store.get("/inventory", response=Inventory, summary="Every chunk held, and the space used of the quota")
def inventory(call: Call) -> Inventory:
    chunks, used, quota = embassy.inventory(client=call.client)
    return Inventory(chunks=chunks, used_bytes=used, quota_bytes=quota)


# --- numbers for the readiness indicators ---------------------------------------------------------

drills = ServiceRouter("continuity.drills", title="Restore drills: numbers for the readiness indicators")
drills.publish("EXCHANGE/data-embassy/drills", title="Restore drills passed, and their RPO and RTO")


class DrillNumbersOut(Schema):
    as_of: datetime
    days: int
    drills: int
    passed: int
    worst_rpo_seconds: float | None
    worst_rto_seconds: float | None


@drills.get(
    "/",
    response=DrillNumbersOut,
    summary="Restore drills of the last year: how many ran, how many passed, the worst RPO and RTO of those "
    "that passed",
)
def drill_numbers_get(call: Call) -> DrillNumbersOut:
    from django.utils import timezone

    from gov21.continuity.selectors import drill_numbers

    now = timezone.now()
    found = drill_numbers(as_of=now)
    return DrillNumbersOut(
        as_of=now,
        days=found.days,
        drills=found.drills,
        passed=found.passed,
        worst_rpo_seconds=found.worst_rpo_seconds,
        worst_rto_seconds=found.worst_rto_seconds,
    )
