"""Geometry faults the register refuses (self-intersecting boundaries, overlapping neighbours,
subdivisions that overlap, leave gaps or do not add up) and the subdivisions and mergers it makes."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import shape

from gov21.core.errors import DomainError
from gov21.land import selectors
from gov21.land.models import Building, Parcel, Right, Transaction
from gov21.land.records import MergerFacts, PartPlan, SubdivisionFacts
from tests.land.helpers import (
    complete,
    first_register,
    geojson,
    lodge,
    owners,
    person,
    rect,
    ref,
    square,
)
from tests.land.test_services import READER

pytestmark = pytest.mark.django_db


def _parts(*geometries: dict[str, Any]) -> list[PartPlan]:
    return [PartPlan(geometry=geojson(g)) for g in geometries]


def test_a_self_intersecting_boundary_is_refused() -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[-63.1, 14.0], [-63.099, 14.001], [-63.099, 14.0], [-63.1, 14.001], [-63.1, 14.0]]],
    }
    with pytest.raises(DomainError) as refused:
        first_register(bow_tie, owners((person(), "1/1")))
    assert refused.value.code == "invalid_geometry" and "Self-intersection" in refused.value.detail
    assert not Transaction.objects.exists()


def test_a_parcel_overlapping_a_registered_one_is_refused() -> None:
    first_register(square(0, 0), owners((person(), "1/1")))
    with pytest.raises(DomainError) as refused:
        first_register(rect(0.5, 0.5, 1.5, 1.5), owners((person(), "1/1")))
    assert refused.value.code == "overlaps_neighbour"
    # Sharing an edge is not overlapping.
    first_register(square(1, 0), owners((person(), "1/1")))


def test_subdivision_into_two_halves_closes_the_parent_and_carries_rights_and_buildings() -> None:
    owner = person()
    parent = first_register(square(0, 2), owners((owner, "1/1")), buildings=[rect(0.6, 2.2, 0.8, 2.4)])
    tx = complete(
        lodge(
            SubdivisionFacts(parcel=parent, applicant=ref(owner), parts=_parts(rect(0, 2, 0.5, 3), rect(0.5, 2, 1, 3)))
        )
    )
    west, east = tx.made
    assert Parcel.objects.get(number=parent).valid_to == tx.registered_at
    areas = {p.number: p.area_m2 for p in Parcel.objects.filter(number__in=tx.made)}
    assert abs(areas[west] + areas[east] - Parcel.objects.get(number=parent).area_m2) < 1
    for number in (west, east):
        assert (
            selectors.parcel_title(number=number, actor=READER, purpose="test").ownership[0].holder.identifier
            == owner.uin
        )
    # The building stands on the east half.
    assert Building.objects.get(valid_to__isnull=True).parcel_number == east
    assert not Right.objects.filter(parcel_number=parent, valid_to__isnull=True).exists()


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ((rect(0, 4, 0.6, 5), rect(0.4, 4, 1, 5)), "parts_overlap"),
        ((rect(0, 4, 0.5, 5), rect(0.5, 4, 0.9, 5)), "parts_leave_gap"),
        ((rect(0, 4, 0.5, 5), rect(0.5, 4, 1.2, 5)), "part_outside_parent"),
    ],
)
def test_a_subdivision_that_does_not_tile_the_parent_is_refused(parts: tuple[dict[str, Any], ...], code: str) -> None:
    owner = person()
    parent = first_register(square(0, 4), owners((owner, "1/1")))
    with pytest.raises(DomainError) as refused:
        lodge(SubdivisionFacts(parcel=parent, applicant=ref(owner), parts=_parts(*parts)))
    assert refused.value.code == code and refused.value.status == 422
    assert Parcel.objects.filter(valid_to__isnull=True).count() == 1


def test_a_subdivision_part_reaching_into_a_neighbour_is_refused() -> None:
    owner = person()
    parent = first_register(square(0, 6), owners((owner, "1/1")))
    first_register(square(1, 6), owners((person(), "1/1")))
    # A part that covers the parent and half the neighbour: outside the parent first.
    with pytest.raises(DomainError) as refused:
        lodge(
            SubdivisionFacts(
                parcel=parent, applicant=ref(owner), parts=_parts(rect(0, 6, 0.5, 7), rect(0.5, 6, 1.5, 7))
            )
        )
    assert refused.value.code in {"part_outside_parent", "overlaps_neighbour"}


def test_merger_of_adjoining_parcels_of_one_owner() -> None:
    owner = person()
    a = first_register(square(0, 8), owners((owner, "1/1")))
    b = first_register(square(1, 8), owners((owner, "1/1")))
    tx = complete(lodge(MergerFacts(parcels=[a, b], applicant=ref(owner))))
    merged = Parcel.objects.get(number=tx.made[0])
    assert merged.geometry.symmetric_difference(shape(geojson(rect(0, 8, 2, 9)))).area < 1e-12
    assert not Parcel.objects.filter(number__in=[a, b], valid_to__isnull=True).exists()


def test_merger_refuses_parcels_apart_or_of_other_owners() -> None:
    owner, other = person(), person()
    a = first_register(square(0, 10), owners((owner, "1/1")))
    apart = first_register(square(3, 10), owners((owner, "1/1")))
    theirs = first_register(square(1, 10), owners((other, "1/1")))
    with pytest.raises(DomainError) as refused:
        lodge(MergerFacts(parcels=[a, apart], applicant=ref(owner)))
    assert refused.value.code == "parcels_not_adjoining"
    with pytest.raises(DomainError) as refused:
        lodge(MergerFacts(parcels=[a, theirs], applicant=ref(owner)))
    assert refused.value.code == "owners_differ"
