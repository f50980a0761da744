"""The identity agency's numbers on the exchange: how many citizens hold an activated digital ID
(numbers only, nobody named), for the readiness indicators."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict

from gov21.exchange.contracts import Call, ServiceRouter
from gov21.identity.selectors import digital_id_numbers

numbers = ServiceRouter("identity.numbers", title="Digital identities: numbers for the readiness indicators")
numbers.publish("IDA/identity/numbers", title=gettext_noop("Digital identities in numbers"))


class DigitalIdNumbersOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)
    as_of: datetime
    citizen_accounts: int
    activated: int


@numbers.get(
    "/",
    response=DigitalIdNumbersOut,
    summary="Citizens' accounts opened and digital IDs activated and in use: numbers only, no person named",
)
def digital_id_numbers_get(call: Call) -> DigitalIdNumbersOut:
    now = timezone.now()
    found = digital_id_numbers(as_of=now)
    return DigitalIdNumbersOut(as_of=now, citizen_accounts=found.citizen_accounts, activated=found.activated)
