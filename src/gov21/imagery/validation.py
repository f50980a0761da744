"""pystac's JSON-schema validator made to read the schemas kept in ``gov21/imagery/schemas`` and
never the network: a schema that is not there is an error, not a download."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pystac.validation.stac_validator import GetSchemaError, JsonSchemaSTACValidator

BETA = "v1.1.0-beta.1"
# The versions the schemas are registered for (see schemas/README.md): as published, and as released.
VERSIONS = {BETA: "1.1.0-beta.1", "v1.1.0": "1.1.0"}
STAC_FILES = {
    "item-spec": (
        "item",
        "bands",
        "basics",
        "common",
        "data-values",
        "datetime",
        "instrument",
        "licensing",
        "provider",
    ),
    "collection-spec": ("collection",),
    "catalog-spec": ("catalog",),
}


def _text(*parts: str) -> str:
    return resources.files("gov21.imagery").joinpath("schemas", *parts).read_text(encoding="utf-8")


def vendored_schemas() -> dict[str, dict[str, Any]]:
    """Every kept schema by the address STAC objects and other schemas name it by."""
    found: dict[str, dict[str, Any]] = {}
    for folder, names in STAC_FILES.items():
        for name in names:
            text = _text("stac", folder, "json-schema", f"{name}.json")
            for tag, version in VERSIONS.items():
                released = text.replace(BETA, tag).replace('"1.1.0-beta.1"', json.dumps(version))
                found[f"https://schemas.stacspec.org/{tag}/{folder}/json-schema/{name}.json"] = json.loads(released)
    for name in ("Feature", "FeatureCollection", "Geometry"):
        found[f"https://geojson.org/schema/{name}.json"] = json.loads(_text("geojson", f"{name}.json"))
    return found


class OfflineValidator(JsonSchemaSTACValidator):
    """Validates core STAC objects against the kept schemas. An extension whose schema is not kept is
    noted in ``unchecked_extensions`` rather than fetched."""

    def __init__(self) -> None:
        super().__init__()
        self.schema_cache = vendored_schemas()
        self.unchecked_extensions: set[str] = set()

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        try:
            return self.schema_cache[schema_uri]
        except KeyError:
            raise GetSchemaError(schema_uri, LookupError("not kept in gov21/imagery/schemas")) from None

    def validate_extension(
        self,
        stac_dict: dict[str, Any],
        stac_object_type: Any,
        stac_version: str,
        extension_id: str,
        href: str | None = None,
    ) -> str | None:
        if extension_id not in self.schema_cache:
            self.unchecked_extensions.add(extension_id)
            return None
        result: str | None = super().validate_extension(stac_dict, stac_object_type, stac_version, extension_id, href)
        return result
