"""The country's geography, read from its data file."""

from __future__ import annotations

from gov21.core.geography import geography, parish_name, parishes, settlement_names


def test_the_country_is_a_fictional_eastern_caribbean_island_group() -> None:
    parishes = geography()
    assert 10 <= len(parishes) <= 14
    codes = [p.code for p in parishes]
    assert codes == [f"XA-{i:02d}" for i in range(1, len(parishes) + 1)]
    assert len({p.name for p in parishes}) == len(parishes)
    for parish in parishes:
        assert 3 <= len(parish.settlements) <= 12
        assert len({s.name for s in parish.settlements}) == len(parish.settlements)
        for s in parish.settlements:
            assert 12.0 <= s.lat <= 18.0
            assert -64.0 <= s.lon <= -60.0
            assert s.weight > 0


def test_parishes_are_named_by_code_and_settlements_listed_once() -> None:
    assert parishes()[2] == ("XA-03", "Anse Corail")
    assert parish_name("XA-12") == "Petite Marron"
    assert parish_name("XA-99") == "XA-99"
    names = settlement_names()
    assert names == sorted(set(names)) and "Port Cassia" in names
    assert len(names) == len({s.name for p in geography() for s in p.settlements})


def test_every_parish_has_a_valid_boundary_around_its_settlements() -> None:
    from shapely.geometry import Point

    from gov21.core.geography import boundaries, country_bounds

    found = boundaries()
    assert [b.code for b in found] == [p.code for p in geography()]
    for boundary, parish in zip(found, geography(), strict=True):
        assert boundary.name == parish.name and boundary.geometry.is_valid
        for place in parish.settlements:
            assert boundary.geometry.contains(Point(place.lon, place.lat)), (parish.code, place.name)
        assert 10 < boundary.area_km2 < 400
    # No two parishes overlap (they may share a border).
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            assert a.geometry.intersection(b.geometry).area < 1e-9, (a.code, b.code)
    bounds = country_bounds()
    assert -64 < bounds.minx < bounds.maxx < -62 and 13 < bounds.miny < bounds.maxy < 15
