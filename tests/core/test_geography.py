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
