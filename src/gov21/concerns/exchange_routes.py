"""The reporting desk's service on the exchange (``PORTAL/concerns/reports``): each agency that
receives reports reads its own queue, the reporter's contact details for one of its reports (a use
recorded for the person) and acts on its reports: status, public update, internal note,
reassignment to another service, merging a duplicate. The caller's member code is the agency; a
report of another agency is as unknown to it as one that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field

from gov21.concerns import selectors, services
from gov21.core.principal import Principal, PrincipalKind
from gov21.exchange.contracts import Call, ServiceRouter


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueuedReport(Schema):
    service_request_id: str
    service_code: str
    status: str
    status_notes: str
    description: str
    requested_datetime: datetime
    expected_datetime: datetime
    overdue: bool
    lat: float | None
    long: float | None
    address: str
    parish: str
    media_url: str


class Queue(Schema):
    reports: list[QueuedReport]


class QueueQuery(BaseModel):
    status: Literal["open", "closed", ""] = "open"


class Contact(Schema):
    person_uin: str
    email: str
    phone: str
    first_name: str
    last_name: str


class Action(Schema):
    status: Literal["open", "closed", ""] = ""
    public_update: str = Field(default="", max_length=1000)
    internal_note: str = Field(default="", max_length=4000)


class Reassign(Schema):
    service_code: str = Field(max_length=40)


class Merge(Schema):
    into: int = Field(ge=1, le=2**62)


class ReportPath(BaseModel):
    report_id: int = Field(ge=1, le=2**62)


class Outcome(Schema):
    service_request_id: str
    status: str
    agency_responsible: str


def _agency(call: Call) -> str:
    # The exchange verified the caller: INSTANCE/CLASS/MEMBER/SUBSYSTEM.
    return call.client.split("/")[2]


def _author(call: Call) -> str:
    user = call.request.user_id
    return (f"{call.client} ({user})" if user else call.client)[:150]


def _outcome(report_id: int) -> Outcome:
    row = selectors.request_get(report_id)
    return Outcome(service_request_id=str(row["id"]), status=row["status"], agency_responsible=row["agency"])


reports = ServiceRouter("concerns.reports", title="Reported problems: the agencies' queues")
reports.publish("PORTAL/concerns/reports", title=gettext_noop("Reported problems: the agencies' queues"))


@reports.get("/queue", response=Queue, query=QueueQuery, summary="The caller's queue of reports, oldest target first")
def queue_get(call: Call, query: QueueQuery) -> Queue:
    rows = selectors.queue(agency=_agency(call), status=query.status)
    return Queue(
        reports=[
            QueuedReport(
                service_request_id=str(r["id"]),
                service_code=r["category__code"],
                status=r["status"],
                status_notes=r["status_notes"],
                description=r["description"],
                requested_datetime=r["requested_at"],
                expected_datetime=r["expected_at"],
                overdue=selectors.overdue(r),
                lat=r["lat"],
                long=r["lon"],
                address=r["address"],
                parish=r["parish"],
                media_url=r["media_url"],
            )
            for r in rows
        ]
    )


@reports.get(
    "/reports/{report_id}/contact",
    path=ReportPath,
    response=Contact,
    summary="Who reported one of the caller's reports (what they chose to give)",
    seen_as=_("Your contact details on a problem you reported"),
)
def contact_get(call: Call, report_id: int) -> Contact:
    reader = Principal(name=f"exchange:{_author(call)}"[:150], kind=PrincipalKind.SYSTEM, roles=frozenset())
    found = selectors.report_contact(
        report_id=report_id, agency=_agency(call), reader=reader, purpose=call.request.issue or "handling a report"
    )
    call.concerns(found["person_uin"])
    return Contact(**found)


@reports.post(
    "/reports/{report_id}/actions",
    path=ReportPath,
    response=Outcome,
    body=Action,
    summary="Change status, update, note",
)
def action_post(call: Call, report_id: int, body: Action) -> Outcome:
    services.report_act(
        report_id=report_id,
        agency=_agency(call),
        author=_author(call),
        status=body.status,
        public=body.public_update,
        internal=body.internal_note,
    )
    return _outcome(report_id)


@reports.post(
    "/reports/{report_id}/reassign", path=ReportPath, response=Outcome, body=Reassign, summary="Move to another service"
)
def reassign_post(call: Call, report_id: int, body: Reassign) -> Outcome:
    services.report_reassign(
        report_id=report_id, agency=_agency(call), to_service_code=body.service_code, author=_author(call)
    )
    return _outcome(report_id)


@reports.post(
    "/reports/{report_id}/merge",
    path=ReportPath,
    response=Outcome,
    body=Merge,
    summary="Merge a duplicate into a report",
)
def merge_post(call: Call, report_id: int, body: Merge) -> Outcome:
    services.report_merge(report_id=report_id, into_id=body.into, agency=_agency(call), author=_author(call))
    return _outcome(report_id)
