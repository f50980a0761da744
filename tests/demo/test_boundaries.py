"""The demo nation's parish boundaries are drawn from its settlements, the same way every time."""

from __future__ import annotations

import io
from importlib import resources

from django.core.management import call_command

from gov21.demo.boundaries import boundaries_geojson


def test_the_committed_boundaries_are_the_ones_the_generator_draws() -> None:
    committed = resources.files("gov21.core").joinpath("data/boundaries.geojson").read_text(encoding="utf-8")
    assert boundaries_geojson() == committed, "run `gov21 demo_boundaries --write`"


def test_the_command_prints_the_boundaries_without_write() -> None:
    out = io.StringIO()
    call_command("demo_boundaries", stdout=out)
    assert out.getvalue() == boundaries_geojson()
    assert '"id":"XA-12"' in out.getvalue()
