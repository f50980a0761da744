"""The regional hub's service on the exchange (the CTU/CARICAD role): national instances send their
signed-off self-assessments to ``DGO/readiness/regional``; the exchange signs and logs each message,
and the hub accepts a country's submission only from the instance registered for that country."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field

from gov21.core.errors import DomainError, Forbidden
from gov21.exchange.contracts import Call, ServiceRouter
from gov21.readiness.models import RegionalMember, RegionalSubmission
from gov21.readiness.reference import countries, questionnaire
from gov21.readiness.tasks import results_publish_soon


class Submission(BaseModel):
    """A country's self-assessment for a round: the mean maturity level (0 to 4) of its signed-off
    agencies on each pillar."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country_code: str = Field(min_length=3, max_length=3)
    round: int = Field(ge=2000, le=2100)
    agencies: int = Field(ge=1, le=1000)
    levels: dict[str, float]


class Receipt(BaseModel):
    country_code: str
    round: int
    received_at: datetime
    replaced: bool


regional = ServiceRouter("readiness.regional", title="Readiness: the regional hub")
regional.publish("DGO/readiness/regional", title=gettext_noop("Readiness: the regional hub"))


@regional.post(
    "/submissions",
    response=Receipt,
    body=Submission,
    status=201,
    summary="Receive a country's signed-off self-assessment for a round",
)
def submission_receive(call: Call, body: Submission) -> Receipt:
    if body.country_code not in countries():
        raise DomainError("unknown_country", f"{body.country_code} is not a UN member state.", field="country_code")
    pillars = set(questionnaire().questions)
    if set(body.levels) != pillars:
        raise DomainError("invalid_levels", "Give a level for each pillar: " + ", ".join(sorted(pillars)) + ".")
    if any(not 0 <= v <= 4 for v in body.levels.values()):
        raise DomainError("invalid_levels", "Levels are from 0 to 4.", field="levels")
    instance = call.client.split("/", 1)[0]
    member = RegionalMember.objects.filter(instance=instance).first()
    if member is None or member.country_code != body.country_code:
        raise Forbidden(
            "not_your_country", f"The instance {instance} does not speak for {body.country_code} at this hub."
        )
    now = timezone.now()
    with transaction.atomic():
        _row, created = RegionalSubmission.objects.update_or_create(
            country_code=body.country_code,
            round=body.round,
            defaults={
                "client": call.client,
                "message_id": call.request.message_id,
                "agencies": body.agencies,
                "levels": body.levels,
                "received_at": now,
            },
        )
        results_publish_soon()
    return Receipt(country_code=body.country_code, round=body.round, received_at=now, replaced=not created)
