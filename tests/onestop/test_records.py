"""The one-stop shop's records: the shapes the portal sees instead of the shop's rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gov21.onestop.models import Application
from gov21.onestop.records import ApplicationState, OfferSummary


def test_the_contract_names_every_state_an_application_is_stored_in() -> None:
    assert [state.value for state in ApplicationState] == list(Application.State.values)


def test_a_record_refuses_a_field_it_does_not_know_and_cannot_be_changed() -> None:
    offer = OfferSummary(id=1, service_code="child-benefit", child_name="", created_at=datetime.now(UTC))

    with pytest.raises(ValidationError):
        OfferSummary(id=1, service_code="x", child_name="", created_at=offer.created_at, facts={})  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        offer.child_name = "Ana"  # type: ignore[misc]
