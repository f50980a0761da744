"""The demo nation's places as files a GIS opens: one GeoJSON FeatureCollection (CRS84) per layer,
plain JSON for what has no geometry (households, businesses, the transfers behind every title), and
a manifest with the counts and a digest of the whole, so two runs can be compared at a glance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from gov21.demo.places.model import Holding, Places, Transfer

DIGITS = 7  # about a centimetre: lots share their edges exactly after rounding, as before it
T = TypeVar("T")


def _holdings(holdings: Sequence[Holding]) -> list[dict[str, str]]:
    return [{"kind": h.party.kind, "ref": h.party.ref, "share": str(h.share)} for h in holdings]


def _transfer(parcel: str, t: Transfer) -> dict[str, Any]:
    return {
        "parcel": parcel,
        "on": t.on.isoformat(),
        "kind": t.kind,
        "sellers": _holdings(t.sellers),
        "buyers": _holdings(t.buyers),
    }


def _collection(
    items: Sequence[T],
    geometry: Callable[[T], BaseGeometry],
    ident: Callable[[T], str],
    props: Callable[[T], dict[str, Any]],
) -> bytes:
    """A FeatureCollection, one feature per line, built from shapely's vectorised GeoJSON writer."""
    geoms = np.array([geometry(item) for item in items], dtype=object)
    if len(geoms):
        geoms = shapely.transform(geoms, lambda xy: np.round(xy, DIGITS))
    texts = list(shapely.to_geojson(geoms)) if len(geoms) else []
    lines = [
        b'{"type":"Feature","id":'
        + orjson.dumps(ident(item))
        + b',"properties":'
        + orjson.dumps(props(item))
        + b',"geometry":'
        + str(text).encode()
        + b"}"
        for item, text in zip(items, texts, strict=True)
    ]
    return b'{"type":"FeatureCollection","features":[\n' + b",\n".join(lines) + b"\n]}\n"


def places_layers(places: Places) -> dict[str, bytes]:
    """Every file of the export by its name."""
    layers = {
        "islands.geojson": _collection(
            places.islands,
            lambda i: i.coastline,
            lambda i: str(i.number),
            lambda i: {"number": i.number, "name": i.name, "area_km2": i.area_km2, "parishes": list(i.parishes)},
        ),
        "settlements.geojson": _collection(
            places.settlements,
            lambda s: s.point,
            lambda s: f"{s.parish}/{s.name}",
            lambda s: {"parish": s.parish, "name": s.name, "island": s.island},
        ),
        "roads.geojson": _collection(
            places.roads,
            lambda r: r.geometry,
            lambda r: r.id,
            lambda r: {
                "class": r.road_class,
                "surface": r.surface,
                "name": r.name,
                "length_m": r.length_m,
                "island": r.island,
                "parish": r.parish,
                "agency": r.agency,
                "condition": r.condition,
                "replacement_value_cents": r.replacement_value_cents,
                "criticality": r.criticality,
            },
        ),
        "parcels.geojson": _collection(
            places.parcels,
            lambda p: p.geometry,
            lambda p: p.number,
            lambda p: {
                "parish": p.parish,
                "settlement": p.settlement,
                "land_use": p.land_use,
                "area_m2": p.area_m2,
                "owners": _holdings(p.owners),
                "household": p.household,
                "transfers": len(p.history),
            },
        ),
        "buildings.geojson": _collection(
            [(p.number, p.building) for p in places.parcels if p.building is not None],
            lambda pb: pb[1].footprint,
            lambda pb: pb[0],
            lambda pb: {"parcel": pb[0], "use": pb[1].use, "storeys": pb[1].storeys, "area_m2": pb[1].area_m2},
        ),
        "assets.geojson": _collection(
            places.assets,
            lambda a: a.geometry,
            lambda a: a.id,
            lambda a: {
                "kind": a.kind,
                "name": a.name,
                "parish": a.parish,
                "settlement": a.settlement,
                "agency": a.agency,
                "condition": a.condition,
                "replacement_value_cents": a.replacement_value_cents,
                "currency": "XCD",
                "criticality": a.criticality,
                "capacity": a.capacity,
                "parcel": a.parcel,
            },
        ),
    }
    layers["households.json"] = orjson.dumps(
        [
            {
                "index": h.index,
                "parish": h.parish,
                "settlement": h.settlement,
                "line": h.line,
                "head": h.head,
                "members": list(h.members),
                "parcel": h.parcel,
            }
            for h in places.households
        ]
    )
    layers["businesses.json"] = orjson.dumps(
        [
            {
                "number": b.number,
                "name": b.name,
                "activity": b.activity,
                "owner": b.owner,
                "parish": b.parish,
                "settlement": b.settlement,
                "registered_on": b.registered_on.isoformat(),
            }
            for b in places.businesses
        ]
    )
    layers["transfers.json"] = orjson.dumps([_transfer(p.number, t) for p in places.parcels for t in p.history])
    return layers


def places_digest(places: Places) -> str:
    """SHA-256 over every field of every place, geometries as WKB: equal digests, equal places."""
    digest = hashlib.sha256()
    digest.update(repr((places.seed, places.today)).encode())
    for name in ("islands", "settlements", "roads", "parcels", "households", "businesses", "assets"):
        items: Iterable[Any] = getattr(places, name)
        geoms: list[BaseGeometry] = []
        for item in items:
            plain = []
            for f in fields(item):
                value = getattr(item, f.name)
                if isinstance(value, BaseGeometry):
                    geoms.append(value)
                elif f.name == "building" and value is not None:
                    geoms.append(value.footprint)
                    plain.append((value.use, value.storeys, value.area_m2))
                else:
                    plain.append(value)
            digest.update(repr(plain).encode())
        if geoms:
            for wkb in shapely.to_wkb(np.array(geoms, dtype=object)):
                digest.update(wkb)
    return digest.hexdigest()


def write_places(places: Places, out: Path) -> dict[str, int]:
    """Write every layer under ``out`` (created if missing) and a manifest; the counts by layer."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {
        "islands": len(places.islands),
        "settlements": len(places.settlements),
        "roads": len(places.roads),
        "parcels": len(places.parcels),
        "buildings": sum(1 for p in places.parcels if p.building is not None),
        "assets": len(places.assets),
        "households": len(places.households),
        "businesses": len(places.businesses),
        "transfers": sum(len(p.history) for p in places.parcels),
    }
    for name, data in places_layers(places).items():
        (out / name).write_bytes(data)
    manifest = {
        "seed": places.seed,
        "today": places.today.isoformat(),
        "digest": places_digest(places),
        "counts": counts,
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return counts
