"""The land register's records, written once: what a transaction asks (its facts, by kind), and what
the register answers (parcels, rights, titles, transactions). Services check the facts, selectors
return the answers, and the exchange's services and pages derive their shapes from these."""

from __future__ import annotations

import re
from datetime import date, datetime
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PartyKindName = Literal["person", "business", "agency"]
# A GeoJSON geometry object as sent (checked by core.geo.geometry_check before it is used).
GeoJSON = dict[str, object]
_SHARE = re.compile(r"([1-9]\d{0,8})/([1-9]\d{0,8})")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartyRef(Record):
    """A person by UIN, a business by its registration number, an agency by its exchange member code."""

    kind: Annotated[PartyKindName, Field(title="Kind of party")]
    identifier: Annotated[str, Field(min_length=1, max_length=40, title="Identifier")]

    @field_validator("identifier")
    @classmethod
    def _plain(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/.-]{0,39}", value):
            raise ValueError("an identifier is letters, digits, '-', '/' and '.'")
        return value


class OwnerShare(Record):
    """A party and the share it is to hold, as an exact fraction written ``a/b`` (``1/1``: all of it)."""

    party: PartyRef
    share: Annotated[str, Field(title="Share", examples=["1/2"])] = "1/1"

    @field_validator("share")
    @classmethod
    def _fraction(cls, value: str) -> str:
        match = _SHARE.fullmatch(value.strip())
        if match is None or int(match.group(1)) > int(match.group(2)):
            raise ValueError("a share is a fraction a/b with 0 < a <= b, such as 1/2")
        return value.strip()

    @property
    def fraction(self) -> Fraction:
        numerator, denominator = self.share.split("/")
        return Fraction(int(numerator), int(denominator))


class PartPlan(Record):
    """One parcel a subdivision makes: its boundary and land use."""

    geometry: GeoJSON
    land_use: Annotated[str, Field(max_length=30)] = "residential"


class FirstRegistrationFacts(Record):
    kind: Literal["first_registration"] = "first_registration"
    parish: Annotated[str, Field(max_length=10)]
    land_use: Annotated[str, Field(max_length=30)] = "residential"
    geometry: GeoJSON
    owners: Annotated[list[OwnerShare], Field(min_length=1, max_length=50)]
    # Footprints of the buildings standing on the parcel, each within it.
    buildings: Annotated[list[GeoJSON], Field(max_length=100)] = []


class TransferFacts(Record):
    kind: Literal["transfer"] = "transfer"
    parcel: Annotated[str, Field(max_length=30)]
    # Who lodges: a registered owner, or their representative (then ``represents`` names the owner).
    applicant: PartyRef
    represents: PartyRef | None = None
    buyers: Annotated[list[OwnerShare], Field(min_length=1, max_length=50)]
    price_cents: Annotated[int, Field(ge=0)] | None = None


class InheritanceFacts(Record):
    kind: Literal["inheritance"] = "inheritance"
    parcels: Annotated[list[str], Field(min_length=1, max_length=200)]
    deceased: PartyRef
    death_registration: Annotated[str, Field(max_length=30)] = ""
    # Set by the registrar from the will or the court's order before the transaction is checked.
    heirs: Annotated[list[OwnerShare], Field(max_length=50)] = []


class MortgageFacts(Record):
    kind: Literal["mortgage"] = "mortgage"
    parcel: Annotated[str, Field(max_length=30)]
    applicant: PartyRef
    represents: PartyRef | None = None
    lender: PartyRef
    amount_cents: Annotated[int, Field(gt=0)]


class DischargeFacts(Record):
    kind: Literal["discharge"] = "discharge"
    parcel: Annotated[str, Field(max_length=30)]
    # The lender releases its mortgage (the mortgage right's id as the title lists it).
    applicant: PartyRef
    represents: PartyRef | None = None
    mortgage: int


class LeaseFacts(Record):
    """The owner lets the parcel to a lessee until a day (a registered lease encumbers the title)."""

    kind: Literal["lease"] = "lease"
    parcel: Annotated[str, Field(max_length=30)]
    applicant: PartyRef
    represents: PartyRef | None = None
    lessee: PartyRef
    ends_on: date
    # The rent and other terms, as the lease states them.
    description: Annotated[str, Field(max_length=300)] = ""


class EasementFacts(Record):
    """The owner grants a right over the parcel (a way, a pipe, a line) to another party."""

    kind: Literal["easement"] = "easement"
    parcel: Annotated[str, Field(max_length=30)]
    applicant: PartyRef
    represents: PartyRef | None = None
    beneficiary: PartyRef
    description: Annotated[str, Field(min_length=1, max_length=300)]
    ends_on: date | None = None


class SubdivisionFacts(Record):
    kind: Literal["subdivision"] = "subdivision"
    parcel: Annotated[str, Field(max_length=30)]
    applicant: PartyRef
    represents: PartyRef | None = None
    parts: Annotated[list[PartPlan], Field(min_length=2, max_length=100)]


class MergerFacts(Record):
    kind: Literal["merger"] = "merger"
    parcels: Annotated[list[str], Field(min_length=2, max_length=50)]
    applicant: PartyRef
    represents: PartyRef | None = None
    land_use: Annotated[str, Field(max_length=30)] = "residential"


Facts = Annotated[
    FirstRegistrationFacts
    | TransferFacts
    | InheritanceFacts
    | MortgageFacts
    | DischargeFacts
    | LeaseFacts
    | EasementFacts
    | SubdivisionFacts
    | MergerFacts,
    Field(discriminator="kind"),
]


class FactsOf(Record):
    """Reads a stored ``facts`` object back into its kind's record."""

    facts: Facts


# --- answers -------------------------------------------------------------------------------------


class MemberView(Record):
    kind: str
    identifier: str
    name: str
    share: str


class PartyView(Record):
    kind: Annotated[str, Field(title="Kind of party")]
    identifier: Annotated[str, Field(title="Identifier")]
    name: Annotated[str, Field(title="Name")]
    members: list[MemberView] = []


class ParcelRecord(Record):
    number: Annotated[str, Field(title="Parcel number")]
    parish: Annotated[str, Field(title="Parish")]
    area_m2: Annotated[float, Field(title="Area (m²)")]
    land_use: Annotated[str, Field(title="Land use")]
    valid_from: datetime
    valid_to: datetime | None


class RightRecord(Record):
    id: int
    kind: Annotated[str, Field(title="Right")]
    holder: PartyView
    amount_cents: int | None = None
    ends_on: date | None = None
    description: str = ""
    valid_from: datetime
    valid_to: datetime | None
    transaction: Annotated[str, Field(title="Registered by transaction")]


class TitleRecord(Record):
    """What the register says of a parcel at a moment: the parcel, who owns it, what encumbers it."""

    parcel: ParcelRecord
    as_of: datetime
    ownership: list[RightRecord]
    encumbrances: list[RightRecord]


class EncumbrancesRecord(Record):
    parcel: str
    as_of: datetime
    encumbrances: list[RightRecord]


class OwnedParcels(Record):
    party: PartyRef
    parcels: list[ParcelRecord]
    # The numbers of those parcels a transaction lodged and not yet decided concerns.
    pending: list[str] = []


class TransactionRecord(Record):
    number: str
    kind: str
    state: str
    parcels: list[str]
    lodged_by: str
    lodged_at: datetime
    checked_by: str
    registered_by: str
    registered_at: datetime | None
    rejection_reason: str


class HistoryRecord(Record):
    """Every version of a parcel and of its rights, oldest first, with the transactions that made them."""

    parcel: str
    versions: list[ParcelRecord]
    rights: list[RightRecord]
    transactions: list[TransactionRecord]
