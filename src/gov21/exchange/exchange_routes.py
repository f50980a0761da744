"""The exchange's own numbers on the exchange: how many members, information systems and services
its directory holds (already public metadata to every member), for the readiness indicators."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict

from gov21.core import config
from gov21.exchange.router import Call, ServiceRouter
from gov21.exchange.selectors import directory_numbers

numbers = ServiceRouter("exchange.numbers", title="The exchange's directory in numbers")
numbers.publish("EXCHANGE/pubsub/directory", title=gettext_noop("The exchange's directory in numbers"))


class DirectoryNumbersOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    as_of: datetime
    instance: str
    members: int
    agencies: int
    subsystems: int
    services: int
    services_with_clients: int


@numbers.get(
    "/",
    response=DirectoryNumbersOut,
    summary="Members, government agencies, information systems and services in this instance's directory, and "
    "the services at least one other system may call",
)
def directory_numbers_get(call: Call) -> DirectoryNumbersOut:
    instance = config.INSTANCE.read()
    found = directory_numbers(instance=instance)
    return DirectoryNumbersOut(as_of=timezone.now(), instance=instance, **asdict(found))
