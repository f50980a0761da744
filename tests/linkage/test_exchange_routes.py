"""The agency's linked extract through the exchange: its own source only, each linked person's use
recorded for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_client, agency_service, data_uses_for, exchange_json
from gov21.linkage import services
from tests.linkage.helpers import clinic_rows, population, write_csv

pytestmark = pytest.mark.django_db


def _extract(member: str, subsystem: str, source: str, issue: str = "benefit review 2026") -> dict[str, object]:
    return exchange_json(  # type: ignore[no-any-return]
        client=agency_client(member, subsystem),
        service=agency_service("CRO", "record-linkage", "extracts"),
        path=f"/{source}",
        issue=issue,
    )


def test_the_agency_reads_its_linked_extract_and_each_person_sees_the_use(tmp_path: Path) -> None:
    people = population()
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", clinic_rows()))
    services.run_source(source="clinic")
    answer = _extract("MSD", "benefits", "clinic")
    records = {r["record_id"]: r for r in answer["records"]}  # type: ignore[attr-defined]
    assert records["C-3"]["uin"] == people["mary"].uin and records["C-3"]["status"] == "linked"
    assert records["C-5"]["uin"] is None and records["C-5"]["status"] == "unlinked"
    uses = data_uses_for(subject=people["mary"].uin)
    assert any(u["service"].endswith("record-linkage/extracts") and u["purpose"] == "benefit review 2026" for u in uses)
    # Someone not linked was not given out, so no use is recorded for them.
    assert not any(u["service"].endswith("record-linkage/extracts") for u in data_uses_for(subject=people["kim"].uin))


def test_another_agency_and_an_unknown_source_are_refused(tmp_path: Path) -> None:
    population()
    services.records_import(source="clinic", agency="MSD", path=write_csv(tmp_path / "c.csv", clinic_rows()))
    with pytest.raises(DomainError) as other:
        _extract("LTA", "licensing", "clinic")
    assert other.value.status == 403
    with pytest.raises(DomainError) as unknown:
        _extract("MSD", "benefits", "no-such")
    assert unknown.value.status == 404
    with pytest.raises(DomainError) as no_purpose:
        _extract("MSD", "benefits", "clinic", issue="")
    assert no_purpose.value.status == 422
