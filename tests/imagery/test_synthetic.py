"""The demo country's synthetic scenes: drawn from its geography, the same for the same seed, the
second one showing the hurricane's damage, catalogued by ``gov21 demo_imagery``."""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command

from gov21.core.geography import boundaries
from gov21.imagery.models import ImageryItem
from gov21.imagery.synthetic import _Canvas, _lowland, demo_scenes

PIXEL = 240.0


@pytest.fixture(scope="module")
def scenes() -> tuple[object, object]:
    return demo_scenes(seed=21, pixel=PIXEL)


def test_the_same_seed_draws_the_same_scenes_and_another_seed_others(scenes: tuple[object, object]) -> None:
    pre, post = demo_scenes(seed=21, pixel=PIXEL)
    assert np.array_equal(pre.rgb, scenes[0].rgb) and np.array_equal(post.rgb, scenes[1].rgb)  # type: ignore[attr-defined]
    other, _post = demo_scenes(seed=22, pixel=PIXEL)
    assert not np.array_equal(other.rgb, pre.rgb)


def test_the_scene_shows_sea_land_and_settlements_where_the_country_has_them() -> None:
    canvas = _Canvas(seed=21, pixel=PIXEL)
    pre, _post = demo_scenes(seed=21, pixel=PIXEL)
    land = canvas.land > 0
    # Land is the parishes' area (within a pixel's rounding along the coast).
    area_km2 = sum(boundary.area_km2 for boundary in boundaries())
    assert land.sum() * (PIXEL / 1000) ** 2 == pytest.approx(area_km2, rel=0.05)
    sea_colour = pre.rgb[:, ~land].mean(axis=1)
    land_colour = pre.rgb[:, land & (canvas.built == 0)].mean(axis=1)
    assert sea_colour[2] > sea_colour[1] and land_colour[1] > land_colour[2]  # blue sea, green land
    assert canvas.built.sum() > 0 and canvas.roads.sum() > 0
    assert not np.any((canvas.built > 0) & ~land)


def test_after_the_hurricane_lowland_is_flooded_and_vegetation_brown(scenes: tuple[object, object]) -> None:
    pre, post = scenes
    canvas = _Canvas(seed=21, pixel=PIXEL)
    flooded = _lowland(canvas) > 0
    assert 0.02 < flooded.sum() / (canvas.land > 0).sum() < 0.5
    before, after = pre.rgb.astype(float), post.rgb.astype(float)  # type: ignore[attr-defined]
    # Flooded land (green vegetation or sand before) is muddy water after.
    mud = np.array([96, 84, 62], dtype=float)[:, None]
    assert np.abs(after[:, flooded] - mud).mean() < 15 < 30 < np.abs(before[:, flooded] - mud).mean()
    vegetation = (canvas.land > 0) & ~flooded & (canvas.built == 0)
    assert (after[0][vegetation] - after[1][vegetation]).mean() > (before[0][vegetation] - before[1][vegetation]).mean()
    # The sea far from the coast is the same before and after.
    open_sea = canvas.near_coast == 0
    assert np.array_equal(pre.rgb[:, open_sea], post.rgb[:, open_sea])  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_demo_imagery_catalogues_both_scenes_once(imagery_store: object) -> None:
    out = io.StringIO()
    call_command("demo_imagery", "--pixel", "240", stdout=out)
    assert "pre-hurricane: added" in out.getvalue() and "post-hurricane: added" in out.getvalue()
    items = {item.item_id: item for item in ImageryItem.objects.filter(collection__collection_id="demo-scenes")}
    assert set(items) == {"pre-hurricane-240m", "post-hurricane-240m"}
    pre, post = items["pre-hurricane-240m"], items["post-hurricane-240m"]
    assert pre.start_at < post.start_at and pre.properties["gov21:synthetic"] is True
    country = shapely.union_all([boundary.geometry for boundary in boundaries()])
    assert pre.geometry.contains(country) and pre.collection.license == "CC0-1.0"
    again = io.StringIO()
    call_command("demo_imagery", "--pixel", "240", stdout=again)
    assert again.getvalue().count("already catalogued") == 2 and ImageryItem.objects.count() == 2
    with pytest.raises(CommandError, match="between 5 and 1000"):
        call_command("demo_imagery", "--pixel", "2", stdout=out)
