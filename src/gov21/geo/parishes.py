"""The country's parishes as a feature collection: public reference data, from
``core/data/boundaries.geojson``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gov21.core.geo import BBox
from gov21.core.geography import boundaries, country_bounds
from gov21.core.principal import Principal
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, features_select


def _features() -> list[Feature]:
    return [
        Feature(
            id=boundary.code,
            geometry=boundary.geometry,
            properties={"code": boundary.code, "name": boundary.name, "area_km2": boundary.area_km2},
        )
        for boundary in boundaries()
    ]


def _items(query: Query) -> Result:
    return features_select(_features(), query)


def _item(feature_id: str, reader: Principal | None) -> Feature | None:
    return next((feature for feature in _features() if feature.id == feature_id), None)


def _extent() -> BBox | None:
    return country_bounds()


def parishes_collection() -> Collection:
    return Collection(
        id="parishes",
        title=_("Parishes"),
        description=_("The parishes of the country: their boundaries, codes, names and areas."),
        properties=(
            Property("code", "string", _("Code"), filter=True),
            Property("name", "string", _("Name"), filter=True),
            Property("area_km2", "number", _("Area (km²)")),
        ),
        items=_items,
        item=_item,
        extent=_extent,
        filtering=True,
    )
