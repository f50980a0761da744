"""Reads of the asset register and of disaster response. Geometry is read the one way every
register reads it: ``bbox_filter`` narrows the rows in the database to those whose box meets the
window, then the exact geometries of what is left are tested; for assets, whose box queries may
return a whole nation's register, in one vectorised pass over plain rows (``rows_intersecting``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gov21.assets.models import (
    Asset,
    AssetKind,
    Condition,
    Criticality,
    DamageAssessment,
    DamagePhoto,
    DisasterEvent,
    Inspection,
    ResidentsListing,
    ResidentsPurpose,
)
from gov21.assets.records import DAMAGE_COST_PERCENT
from gov21.core.errors import DomainError, NotFound
from gov21.core.geography import boundaries, geography
from gov21.core.principal import Principal
from gov21.core.spatial import bbox_filter, rows_intersecting
from gov21.exchange.contracts import agency_client, agency_service, exchange_json_message

# The columns a map or a table of assets needs: the rest (history, timestamps) stays in the database.
LISTED = (
    "id", "code", "name", "kind", "agency", "parish", "condition", "criticality", "capacity",
    "replacement_value_cents", "currency", "road_class", "road_surface",
    "geometry_wkb", "min_lon", "min_lat", "max_lon", "max_lat",
)  # fmt: skip
# What an ``AssetRow`` is read from, in its fields' order, and where the geometry is among them.
ROW_COLUMNS = (
    "code", "name", "kind", "agency", "parish", "condition", "criticality", "capacity",
    "replacement_value_cents", "currency", "road_class", "road_surface", "geometry_wkb",
)  # fmt: skip
_WKB_AT = ROW_COLUMNS.index("geometry_wkb")


class AssetRow(NamedTuple):
    """An asset as a list, a map or an impact shows it: read as plain values, not as a model, so a
    query over a whole nation's register builds tens of thousands of them in milliseconds (a named
    tuple is made in a third of the time of a frozen dataclass)."""

    code: str
    name: str
    kind: str
    agency: str
    parish: str
    condition: str
    criticality: str
    capacity: int | None
    replacement_value_cents: int
    currency: str
    road_class: str
    road_surface: str
    geometry: BaseGeometry

    @property
    def kind_label(self) -> str:
        return str(AssetKind(self.kind).label)

    @property
    def condition_label(self) -> str:
        return str(Condition(self.condition).label)

    @property
    def criticality_label(self) -> str:
        return str(Criticality(self.criticality).label)


def asset_row(asset: Asset) -> AssetRow:
    return AssetRow._make((*(getattr(asset, name) for name in ROW_COLUMNS[:_WKB_AT]), asset.geometry))


def rows_within(rows: QuerySet[Asset], area: BaseGeometry) -> list[AssetRow]:
    """The assets of ``rows`` whose geometry meets ``area`` (CRS84), in the queryset's order: the
    database narrows them by their boxes (``bbox_filter``), shapely tests the geometries left."""
    found = rows_intersecting(list(bbox_filter(rows, area).values_list(*ROW_COLUMNS)), area, wkb_at=_WKB_AT)
    make = AssetRow._make
    return [make((*row[:_WKB_AT], geometry)) for row, geometry in found]


# The exchange client disaster response reads the civil registry as.
CLIENT = ("NDMO", "disaster-response")


def assets_filter(
    *, kind: str = "", agency: str = "", parish: str = "", condition: str = "", road_only: bool = False
) -> QuerySet[Asset]:
    assets = Asset.objects.only(*LISTED)
    if road_only:
        assets = assets.filter(kind="road")
    for name, value in (("kind", kind), ("agency", agency), ("parish", parish), ("condition", condition)):
        if value:
            assets = assets.filter(**{name: value})
    return assets.order_by("code")


def asset_get(*, code: str, actor: Principal) -> Asset:
    actor.require("assets.read")
    asset = Asset.objects.filter(code=code).first()
    if asset is None:
        raise NotFound("asset_not_found", _("No asset has the code %(code)s.") % {"code": code})
    return asset


def asset_inspections(asset: Asset) -> list[Inspection]:
    """Every inspection of ``asset``, latest first."""
    return list(asset.inspections.order_by("-inspected_on", "-pk"))


def assets_within(area: BaseGeometry, assets: QuerySet[Asset] | None = None) -> list[AssetRow]:
    """The assets whose geometry meets ``area`` (CRS84), in the order of their codes."""
    return rows_within(assets if assets is not None else Asset.objects.order_by("code"), area)


def event_get(*, event_id: int, actor: Principal) -> DisasterEvent:
    actor.require("disaster.read")
    event = DisasterEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound("event_not_found", _("No disaster has the number %(id)s.") % {"id": event_id})
    return event


def events_recent(*, actor: Principal, limit: int = 50) -> list[DisasterEvent]:
    actor.require("disaster.read")
    return list(DisasterEvent.objects.order_by("-occurred_on", "-pk")[:limit])


# --- impact ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceCount:
    parish: str
    parish_name: str
    settlement: str
    residents: int


@dataclass(frozen=True, slots=True)
class Impact:
    """What a disaster's area touches: the assets, the parishes (with their residents), and the
    settlements inside it (with theirs). Residents are counts from the civil registry, read through
    the exchange in the message ``message_id``."""

    event: DisasterEvent
    assets: list[AssetRow]
    parishes: list[PlaceCount]
    settlements: list[PlaceCount]
    message_id: str

    @property
    def residents_in_settlements(self) -> int:
        return sum(place.residents for place in self.settlements)

    @property
    def shelter_places(self) -> int:
        return sum(asset.capacity or 0 for asset in self.assets if asset.kind == "shelter")


def places_within(area: BaseGeometry) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The parishes (code, name) whose boundary meets ``area``, and the settlements (parish code,
    name) whose point lies in it."""
    touched = [(boundary.code, boundary.name) for boundary in boundaries() if boundary.geometry.intersects(area)]
    settlements = [
        (parish.code, place.name)
        for parish in geography()
        for place in parish.settlements
        if area.intersects(Point(place.lon, place.lat))
    ]
    return touched, settlements


def residents_by_place(
    *, parishes: list[str], actor: Principal, purpose: str
) -> tuple[dict[tuple[str, str], int], str]:
    """How many people live in each parish and settlement of ``parishes``: counts from the civil
    registry's residents service, read through the exchange as the disaster management office, with
    the officer named. Keys are (parish, settlement); the settlement is "" for the whole parish."""
    if not parishes:
        return {}, ""
    answer, message_id = exchange_json_message(
        client=agency_client(*CLIENT),
        service=agency_service("CRO", "civil-registry", "residents"),
        path="/counts",
        query=f"parishes={','.join(parishes)}",
        user_id=actor.name[:100],
        issue=purpose[:300],
    )
    return {(place["parish"], place["settlement"]): int(place["residents"]) for place in answer["places"]}, message_id


def event_impact(*, event: DisasterEvent, actor: Principal) -> Impact:
    actor.require("disaster.read")
    area = event.geometry
    assets = assets_within(area)
    touched, inside = places_within(area)
    counts, message_id = residents_by_place(
        parishes=[code for code, _name in touched], actor=actor, purpose=f"disaster {event.pk}: impact"
    )
    names = dict(touched)
    return Impact(
        event=event,
        assets=assets,
        parishes=[PlaceCount(code, name, "", counts.get((code, ""), 0)) for code, name in touched],
        settlements=[
            PlaceCount(code, names.get(code, code), name, counts.get((code, name), 0)) for code, name in inside
        ],
        message_id=message_id,
    )


# --- residents named, for a purpose ---------------------------------------------------------------

# How long an officer's statement of purpose holds: a shift, after which they state it again.
LISTING_HOURS = 12
# Residents on one page of the office's list, and in each read behind a download.
NAMED_PAGE = 50
NAMED_BATCH = 200
# The most pages the office asks for: far more than any area's residents fill.
NAMED_PAGES_MAX = 100_000


def settlement_key(parish: str, settlement: str) -> str:
    """A settlement as forms and the civil registry's residents service name it: "XA-01/Port Clement"."""
    return f"{parish}/{settlement}"


@dataclass(frozen=True, slots=True)
class NamedResident:
    """A resident the civil registry named, as the office shows and downloads them."""

    uin: str
    given_names: str
    family_name: str
    sex: str
    birth_date: str
    age: int
    parish: str
    settlement: str
    address_line: str
    household: str
    household_size: int
    child_under_5: bool
    aged_75_plus: bool


@dataclass(frozen=True, slots=True)
class NamedPage:
    """One page of the residents named under a statement of purpose, and the message that carried it."""

    listing: ResidentsListing
    residents: list[NamedResident]
    total: int
    page: int
    pages: int
    message_id: str


def listing_get(*, event_id: int, listing_id: int, actor: Principal) -> ResidentsListing:
    """A statement of purpose of the disaster ``event_id``, for the officer who made it while it holds."""
    actor.require("disaster.residents")
    listing = ResidentsListing.objects.select_related("event").filter(pk=listing_id, event_id=event_id).first()
    if listing is None:
        raise NotFound("listing_not_found", _("No statement of purpose has this number for this disaster."))
    if listing.stated_by != actor.name:
        raise DomainError(
            "listing_not_yours",
            _("Another officer stated this purpose. State your own to see the names."),
            status=403,
        )
    if timezone.now() - listing.stated_at > timedelta(hours=LISTING_HOURS):
        raise DomainError(
            "listing_expired",
            _("A statement of purpose holds for %(hours)s hours. State the purpose again to see the names.")
            % {"hours": LISTING_HOURS},
            status=409,
        )
    return listing


def listing_places(listing: ResidentsListing) -> list[tuple[str, str]]:
    """The settlements whose residents a statement asks for: its own, or every one in the area."""
    if listing.settlement:
        return [(listing.parish, listing.settlement)]
    return places_within(listing.event.geometry)[1]


def listing_issue(listing: ResidentsListing) -> str:
    """What each person named reads as the purpose: the lawful purpose, the officer's reason and the
    disaster, in the language the logs keep (English)."""
    with translation.override("en"):
        label = str(ResidentsPurpose(listing.purpose).label)
    return f"{label}: {listing.reason} (disaster {listing.event_id}, statement {listing.pk})"[:300]


def residents_named(*, listing: ResidentsListing, page: int, actor: Principal, size: int | None = None) -> NamedPage:
    """One page of the residents of the places ``listing`` asks for, named by the civil registry
    through the exchange as the disaster management office, with the officer and the statement's
    purpose on the request: each person named sees both among the uses of their data."""
    actor.require("disaster.residents")
    if listing.stated_by != actor.name:
        raise DomainError("listing_not_yours", _("Another officer stated this purpose."), status=403)
    places = ";".join(settlement_key(parish, name) for parish, name in listing_places(listing))
    query = urlencode({"places": places, "purpose": listing.purpose, "page": page, "size": size or NAMED_PAGE})
    try:
        answer, message_id = exchange_json_message(
            client=agency_client(*CLIENT),
            service=agency_service("CRO", "civil-registry", "residents"),
            path="/named",
            query=query,
            user_id=actor.name[:100],
            issue=listing_issue(listing),
        )
    except DomainError as error:
        if error.code == "page_out_of_range":
            raise DomainError(
                "page_out_of_range",
                _("There is no page %(page)s of these residents. Go back to the first page.") % {"page": page},
                field="page",
            ) from None
        raise
    return NamedPage(
        listing=listing,
        residents=[NamedResident(**row) for row in answer["residents"]],
        total=int(answer["total"]),
        page=int(answer["page"]),
        pages=int(answer["pages"]),
        message_id=message_id,
    )


def residents_named_all(*, listing: ResidentsListing, actor: Principal) -> Iterator[NamedResident]:
    """Every resident the statement asks for, read a batch at a time (a download)."""
    page, pages = 1, 1
    while page <= pages:
        batch = residents_named(listing=listing, page=page, actor=actor, size=NAMED_BATCH)
        yield from batch.residents
        page, pages = page + 1, batch.pages


# --- damage ---------------------------------------------------------------------------------------


def assessments_current(event: DisasterEvent) -> list[DamageAssessment]:
    """The standing assessment of each asset and parcel the event damaged: the latest of each."""
    latest: dict[tuple[int | None, str], DamageAssessment] = {}
    for assessment in event.assessments.select_related("asset").order_by("assessed_at", "pk"):
        latest[(assessment.asset_id, assessment.parcel_number)] = assessment
    return sorted(latest.values(), key=lambda a: a.asset.code if a.asset else a.parcel_number)


def assessments_all(event: DisasterEvent) -> list[DamageAssessment]:
    """Every assessment of the event, latest first, with its photos."""
    return list(event.assessments.select_related("asset").prefetch_related("photos").order_by("-assessed_at", "-pk"))


def damage_cost_cents(assessment: DamageAssessment) -> int:
    """The estimated cost of the damage: the asset's replacement value times the share its level
    costs (``DAMAGE_COST_PERCENT``); a parcel's cost is not the state's to estimate here (0)."""
    if assessment.asset is None:
        return 0
    return assessment.asset.replacement_value_cents * DAMAGE_COST_PERCENT[assessment.level] // 100


@dataclass
class SummaryRow:
    """The assessments of one parish or one agency: how many at each level, and the estimated cost."""

    key: str
    label: str
    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DAMAGE_COST_PERCENT, 0))
    cost_cents: int = 0

    @property
    def assessed(self) -> int:
        return sum(self.levels.values())


@dataclass(frozen=True, slots=True)
class DamageSummary:
    by_parish: list[SummaryRow]
    by_agency: list[SummaryRow]
    total: SummaryRow
    currencies: tuple[str, ...]


def damage_summary(*, event: DisasterEvent, actor: Principal) -> DamageSummary:
    """The standing assessments summed by parish and by owning agency (parcels under "land
    parcels"), with the cost of each level from the assets' replacement values."""
    actor.require("disaster.read")
    parish_names = {boundary.code: boundary.name for boundary in boundaries()}
    by_parish: dict[str, SummaryRow] = {}
    by_agency: dict[str, SummaryRow] = {}
    total = SummaryRow("", _("All"))
    currencies: set[str] = set()
    for assessment in assessments_current(event):
        cost = damage_cost_cents(assessment)
        agency = assessment.asset.agency if assessment.asset else ""
        if assessment.asset is not None:
            currencies.add(assessment.asset.currency)
        rows = (
            by_parish.setdefault(
                assessment.parish, SummaryRow(assessment.parish, parish_names.get(assessment.parish, _("No parish")))
            ),
            by_agency.setdefault(agency, SummaryRow(agency, agency or _("Land parcels"))),
            total,
        )
        for row in rows:
            row.levels[assessment.level] += 1
            row.cost_cents += cost
    return DamageSummary(
        by_parish=sorted(by_parish.values(), key=lambda r: r.key or "~"),
        by_agency=sorted(by_agency.values(), key=lambda r: r.key or "~"),
        total=total,
        currencies=tuple(sorted(currencies)),
    )


def assets_in_event_counts(impact: Impact) -> dict[str, int]:
    """How many assets of each kind the area touches."""
    counts: dict[str, int] = defaultdict(int)
    for asset in impact.assets:
        counts[asset.kind] += 1
    return dict(sorted(counts.items()))


def photo_get(*, sha256: str, actor: Principal) -> tuple[bytes, str] | None:
    """A damage photograph's bytes and media type, or None when no assessment has it or its file is
    gone. A photo is at most ``PHOTO_MAX_BYTES``: read whole."""
    from gov21.assets.services import PHOTO_FORMATS, photo_path

    actor.require("disaster.read")
    found = DamagePhoto.objects.filter(sha256=sha256).first()
    if found is None:
        return None
    extension = next(ext for media, ext in PHOTO_FORMATS.values() if media == found.media_type)
    path = photo_path(found.sha256, extension)
    return (path.read_bytes(), found.media_type) if path.exists() else None
