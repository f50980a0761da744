"""The record linkage's service on the exchange: an agency reads back its own source, each record
with the UIN it was linked to. The answer names every linked person, so the exchange records the use
for them and their "who used my data" shows it."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict

from gov21.exchange.contracts import Call, ServiceRouter
from gov21.linkage.selectors import extract_for_agency


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Linked(Schema):
    record_id: str
    uin: str | None
    match_probability: float | None
    status: Literal["linked", "review", "unlinked", ""]


class Extract(Schema):
    source: str
    records: list[Linked]


extracts = ServiceRouter("linkage.extracts", title="Record linkage: an agency's records with their UINs")
extracts.publish("CRO/record-linkage/extracts", title=gettext_noop("Record linkage: your records with their UINs"))


@extracts.get(
    "/{source}",
    response=Extract,
    summary="The calling agency's source, each record with the UIN it is linked to, its match probability "
    "and status (linked, review, unlinked); only the agency that owns the source may read it",
    seen_as=_("Your UIN, given to an agency beside its own record of you"),
)
def extract_get(call: Call, source: str) -> Extract:
    rows = extract_for_agency(source=source, client=call.client, purpose=call.request.issue or None)
    call.concerns(*[r.uin for r in rows if r.status == "linked" and r.uin])
    return Extract(
        source=source,
        records=[
            Linked(
                record_id=r.record_id,
                uin=r.uin if r.status == "linked" else None,
                match_probability=r.probability,
                status=r.status,  # type: ignore[arg-type]
            )
            for r in rows
        ],
    )
