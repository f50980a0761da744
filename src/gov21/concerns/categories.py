"""The services the public can report in, each with the agency (exchange member and subsystem) whose
queue receives its reports and how many hours it has to resolve one. Loaded by a data migration;
operators change them in the database after that."""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext_noop

_SIZE: Final = {
    "variable": True,
    "code": "size",
    "datatype": "singlevaluelist",
    "required": True,
    "datatype_description": "",
    "order": 1,
    "description": gettext_noop("How big is it?"),
    "values": [
        {"key": "small", "name": gettext_noop("Smaller than a plate")},
        {"key": "medium", "name": gettext_noop("Smaller than a car tyre")},
        {"key": "large", "name": gettext_noop("Larger than a car tyre")},
    ],
}

CATEGORIES: Final[tuple[dict[str, Any], ...]] = (
    {
        "code": "pothole",
        "name": gettext_noop("Pothole"),
        "group": gettext_noop("Roads"),
        "agency": "PWD",
        "subsystem": "works",
        "target_hours": 240,
        "keywords": "road, hole, pavement",
        "description": gettext_noop("A hole in a road or pavement."),
        "attributes": [_SIZE],
    },
    {
        "code": "street-light",
        "name": gettext_noop("Street light not working"),
        "group": gettext_noop("Roads"),
        "agency": "PWD",
        "subsystem": "works",
        "target_hours": 120,
        "keywords": "lamp, light, dark",
        "description": gettext_noop("A street light that is out, flickering or on all day."),
        "attributes": [],
    },
    {
        "code": "drain",
        "name": gettext_noop("Blocked or broken drain"),
        "group": gettext_noop("Roads"),
        "agency": "PWD",
        "subsystem": "works",
        "target_hours": 72,
        "keywords": "drain, flood, gully",
        "description": gettext_noop("A drain that is blocked, broken or open."),
        "attributes": [],
    },
    {
        "code": "public-building",
        "name": gettext_noop("Damaged public building"),
        "group": gettext_noop("Buildings"),
        "agency": "PWD",
        "subsystem": "works",
        "target_hours": 336,
        "keywords": "school, clinic, building",
        "description": gettext_noop("Damage to a school, clinic or other public building."),
        "attributes": [],
    },
    {
        "code": "water-leak",
        "name": gettext_noop("Water leak"),
        "group": gettext_noop("Water"),
        "agency": "WSA",
        "subsystem": "water",
        "target_hours": 24,
        "keywords": "water, pipe, leak",
        "description": gettext_noop("Water leaking from a main or a meter."),
        "attributes": [],
    },
    {
        "code": "illegal-dumping",
        "name": gettext_noop("Illegal dumping"),
        "group": gettext_noop("Waste"),
        "agency": "SWA",
        "subsystem": "waste",
        "target_hours": 120,
        "keywords": "rubbish, fly-tipping, waste",
        "description": gettext_noop("Rubbish left where it should not be."),
        "attributes": [],
    },
)


def categories_load(model: Any = None) -> None:
    """Create the categories above that are missing (a category an operator changed is kept)."""
    if model is None:
        from gov21.concerns.models import Category

        model = Category
    for entry in CATEGORIES:
        model.objects.get_or_create(code=entry["code"], defaults={k: v for k, v in entry.items() if k != "code"})
