"""The country's settlements (towns and villages) as a feature collection of points: public reference
data, from ``core/data/geography.json``, each with its name and its parish's code and name."""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from shapely.geometry import Point

from gov21.core.geo import BBox, bounds_of
from gov21.core.geography import geography
from gov21.core.principal import Principal
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, features_select


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


@lru_cache(maxsize=1)
def _features() -> tuple[Feature, ...]:
    """One point per settlement, its id the parish code and its name (``XA-01-port-clement``)."""
    return tuple(
        Feature(
            id=f"{parish.code}-{_slug(settlement.name)}",
            geometry=Point(settlement.lon, settlement.lat),
            properties={"name": settlement.name, "parish_code": parish.code, "parish_name": parish.name},
        )
        for parish in geography()
        for settlement in parish.settlements
    )


def _items(query: Query) -> Result:
    return features_select(_features(), query)


def _item(feature_id: str, reader: Principal | None) -> Feature | None:
    return next((feature for feature in _features() if feature.id == feature_id), None)


def _extent() -> BBox | None:
    return bounds_of([feature.geometry for feature in _features() if feature.geometry is not None])


def settlements_collection() -> Collection:
    return Collection(
        id="settlements",
        title=_("Settlements"),
        description=_("The towns and villages of the country: where each lies, its name and its parish."),
        properties=(
            Property("name", "string", _("Name"), filter=True),
            Property("parish_code", "string", _("Parish code"), filter=True),
            Property("parish_name", "string", _("Parish")),
        ),
        items=_items,
        item=_item,
        extent=_extent,
        filtering=True,
    )
