"""The registry's versions of records for the record linkage: pages from a cursor, the purpose
required, each person read recorded for them, and no other system allowed."""

from __future__ import annotations

from datetime import date

import pytest

from gov21.audit.contracts import access_records_for
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_call, exchange_json
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

REGISTRAR = Principal(name="registrar.versions", kind="staff", roles=frozenset({"registrar"}))


def _page(after: int, limit: int, issue: str = "keeping the linkage index current") -> dict[str, object]:
    return exchange_json(  # type: ignore[no-any-return]
        client=agency_client("CRO", "record-linkage"),
        service=agency_service("CRO", "civil-registry", "versions"),
        path="/",
        query=f"after={after}&limit={limit}",
        issue=issue,
    )


def test_versions_come_in_pages_from_a_cursor_and_each_person_read_is_logged() -> None:
    people = [register_person(REGISTRAR, born=date(1970 + i, 1, 2)) for i in range(3)]
    first = _page(0, 2)
    assert len(first["versions"]) == 2 and first["next"] is not None  # type: ignore[arg-type]
    rest = _page(int(first["next"]), 2)  # type: ignore[arg-type]
    assert rest["next"] is None
    versions = [*first["versions"], *rest["versions"]]  # type: ignore[misc]
    assert [v["uin"] for v in versions] == [p.uin for p in people]
    assert versions[0]["data"]["family_name"] == "Baptiste"
    log = access_records_for(subject=people[0].uin)
    assert any(r["action"] == "person.linkage" and r["purpose"] == "keeping the linkage index current" for r in log)


def test_a_read_without_purpose_and_a_system_without_the_right_are_refused() -> None:
    register_person(REGISTRAR)
    with pytest.raises(DomainError) as no_purpose:
        _page(0, 10, issue="")
    assert no_purpose.value.code == "purpose_required"
    refused = exchange_call(
        client=agency_client("MSD", "benefits"),
        service=agency_service("CRO", "civil-registry", "versions"),
        path="/",
        issue="curious",
    )
    assert refused.error.endswith("AccessDenied")
    with pytest.raises(DomainError):
        _page(0, 5000)
