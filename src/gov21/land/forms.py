"""The forms of the land register's office pages, on the one form base (``core.forms``)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gov21.core.forms import Form, TextField, TextListField
from gov21.core.geography import parishes
from gov21.land.lodging import GEOMETRY_MAX_CHARACTERS
from gov21.land.models import SourceKind
from gov21.land.records import OwnerShare, PartyRef

_LINE = re.compile(r"(?:(person|business|agency):)?(\S+)(?:\s+(\S+))?")


def _owner_lines(text: str) -> list[OwnerShare]:
    """Owners typed one a line: an identifier (a UIN, or ``business:`` / ``agency:`` and its number)
    and its share (``1/2``; the whole when left out)."""
    owners = []
    for number, line in enumerate((raw.strip() for raw in text.splitlines()), start=1):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        try:
            if match is None:
                raise ValueError
            party = PartyRef(kind=match.group(1) or "person", identifier=match.group(2))  # type: ignore[arg-type]
            owners.append(OwnerShare(party=party, share=match.group(3) or "1/1"))
        except ValueError:
            raise ValidationError(
                _("Line %(line)d is not an owner and a share, such as 2345678901 1/2."),
                code="invalid_owner",
                params={"line": number},
            ) from None
    if not owners:
        raise ValidationError(_("Name at least one owner."), code="required")
    return owners


class ParcelFindForm(Form):
    number = TextField(max_length=30, required=True, label=_("Parcel number"), help_text=_("For example XA-01-000123"))


class AsOfForm(Form):
    as_of = forms.DateField(
        required=False,
        label=_("Show the title as it stood at the end of"),
        help_text=_("A date such as 2026-03-31; leave empty for today."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, such as 2026-03-31.")},
    )


class OwnersField(TextField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_length=4000, required=True, widget=forms.Textarea(attrs={"rows": 3}), **kwargs)  # type: ignore[arg-type]

    def clean(self, value: object) -> list[OwnerShare]:
        return _owner_lines(str(super().clean(value)))


# How many documents one lodging form takes at once (more are attached by lodging through the API).
DOCUMENT_SLOTS = 3
_SHA256 = re.compile(r"[0-9a-f]{64}")
LAND_USES = [
    ("residential", _("Residential")),
    ("commercial", _("Commercial")),
    ("agricultural", _("Agricultural")),
    ("public", _("Public")),
    ("state", _("State")),
]


class LodgingForm(Form):
    """A lodging form: its own fields, then up to ``DOCUMENT_SLOTS`` source documents (a kind and a
    file each), and the documents already kept from an earlier attempt (by SHA-256, hidden)."""

    kept = TextListField(max_length=64, widget=forms.MultipleHiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        kinds = [("", _("No document")), *SourceKind.choices]
        for slot in range(1, DOCUMENT_SLOTS + 1):
            self.fields[f"document_kind_{slot}"] = forms.ChoiceField(
                label=_("Kind of document %(slot)d") % {"slot": slot},
                choices=kinds,
                required=False,
                error_messages={"invalid_choice": _("Choose what kind of document this is.")},
            )
            self.fields[f"document_{slot}"] = forms.FileField(
                label=_("File of document %(slot)d") % {"slot": slot},
                required=False,
                help_text=_("A PDF, PNG, JPEG or TIFF file of at most 20 MB.") if slot == 1 else "",
                widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg,image/tiff"}),
            )

    def clean_kept(self) -> list[str]:
        kept = [str(value) for value in self.cleaned_data["kept"]]
        if any(not _SHA256.fullmatch(value) for value in kept):
            raise ValidationError(_("A document kept from before is not known; upload it again."), code="invalid")
        return list(dict.fromkeys(kept))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for slot in range(1, DOCUMENT_SLOTS + 1):
            if data.get(f"document_{slot}") and not data.get(f"document_kind_{slot}"):
                self.add_error(
                    f"document_kind_{slot}",
                    ValidationError(_("Choose what kind of document this is."), code="required"),
                )
        return data

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("document") and name != "kept"]

    def document_slots(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"document_kind_{slot}"], self[f"document_{slot}"]) for slot in range(1, DOCUMENT_SLOTS + 1)]

    def uploads(self) -> list[tuple[str, object]]:
        """Each slot's (kind, file or None), in order."""
        data = self.cleaned_data
        return [
            (str(data.get(f"document_kind_{slot}") or ""), data.get(f"document_{slot}") or None)
            for slot in range(1, DOCUMENT_SLOTS + 1)
        ]


def party_parse(text: str) -> PartyRef:
    """A party as typed: a UIN, or ``business:`` / ``agency:`` and its number."""
    kind, sep, identifier = text.partition(":")
    if not sep:
        kind, identifier = "person", text
    if kind not in ("person", "business", "agency"):
        raise ValidationError(_("Write a UIN, or business: or agency: and then the number."), code="invalid_party")
    try:
        return PartyRef(kind=kind, identifier=identifier)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError(
            _("That is not a UIN, registration number or member code."), code="invalid_party"
        ) from None


def _boundary(label: object, help_text: object) -> TextField:
    return TextField(
        max_length=GEOMETRY_MAX_CHARACTERS,
        required=False,
        label=label,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )


class TransferForm(LodgingForm):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    applicant = TextField(
        max_length=20,
        required=True,
        label=_("UIN of the registered owner who sells"),
        help_text=_("The owner, or their representative (then give the owner's UIN below)."),
    )
    represents = TextField(max_length=20, label=_("UIN of the owner represented (if any)"))
    buyers = OwnersField(
        label=_("Buyers and their shares"),
        help_text=_("One a line: a UIN, or business: and its number, then the share, such as 2345678901 1/2."),
    )


class MortgageForm(LodgingForm):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    applicant = TextField(max_length=20, required=True, label=_("UIN of the registered owner"))
    lender = TextField(
        max_length=40,
        required=True,
        label=_("Lender"),
        help_text=_("A business by its registration number (business:BN-2026-000001) or an agency (agency:MSD)."),
    )
    amount = forms.DecimalField(
        min_value=1,
        max_digits=14,
        decimal_places=2,
        label=_("Amount lent"),
        error_messages={"required": _("Enter the amount lent."), "invalid": _("Enter the amount as a number.")},
    )

    def clean_lender(self) -> PartyRef:
        text = str(self.cleaned_data["lender"])
        kind, _sep, identifier = text.partition(":")
        if kind not in ("business", "agency") or not identifier:
            raise ValidationError(_("Write business: or agency: and then the lender's number."), code="invalid_lender")
        try:
            return PartyRef(kind=kind, identifier=identifier)  # type: ignore[arg-type]
        except ValueError:
            raise ValidationError(
                _("That is not a registration number or member code."), code="invalid_lender"
            ) from None


class FirstRegistrationForm(LodgingForm):
    parish = forms.ChoiceField(
        label=_("Parish"),
        error_messages={"required": _("Choose the parish."), "invalid_choice": _("Choose the parish.")},
    )
    land_use = forms.ChoiceField(label=_("Land use"), choices=LAND_USES)
    geometry = _boundary(
        _("Boundary (GeoJSON or WKT)"),
        _(
            "One polygon, positions as longitude then latitude (CRS84), such as"
            " POLYGON ((-63.1 14.0, -63.099 14.0, -63.099 14.001, -63.1 14.001, -63.1 14.0))."
        ),
    )
    geometry_file = forms.FileField(label=_("Or the boundary as a file"), required=False)
    owners = OwnersField(
        label=_("Owners and their shares"),
        help_text=_(
            "One a line: a UIN, or business: or agency: and its number, then the share, such as 2345678901 1/2."
        ),
    )
    buildings = _boundary(
        _("Buildings standing on it (optional)"),
        _("Their footprints, each within the parcel: a GeoJSON FeatureCollection, or WKT polygons one a line."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parish"].choices = [("", _("Choose the parish")), *((c, f"{n} ({c})") for c, n in parishes())]  # type: ignore[attr-defined]


class _ByOwner(LodgingForm):
    """A transaction an owner asks for, by themselves or by a representative."""

    applicant = TextField(
        max_length=20,
        required=True,
        label=_("UIN of the registered owner"),
        help_text=_("The owner, or their representative (then give the owner's UIN below)."),
    )
    represents = TextField(max_length=20, label=_("UIN of the owner represented (if any)"))


class SubdivisionForm(_ByOwner):
    parcel = TextField(max_length=30, required=True, label=_("Parcel to divide"))
    parts = _boundary(
        _("The new parcels (GeoJSON or WKT)"),
        _(
            "At least two polygons that together cover the parcel exactly: a GeoJSON FeatureCollection"
            " (a feature may give its land_use), a MultiPolygon, or WKT polygons one a line."
        ),
    )
    parts_file = forms.FileField(label=_("Or the new parcels as a file"), required=False)
    land_use = forms.ChoiceField(
        label=_("Land use of the new parcels"),
        choices=LAND_USES,
        help_text=_("For each part whose feature does not give its own."),
    )
    field_order = ["parcel", "applicant", "represents", "parts", "parts_file", "land_use"]


class MergerForm(_ByOwner):
    parcels = TextField(
        max_length=2000,
        required=True,
        label=_("Parcels to merge"),
        help_text=_("Their numbers, one a line or separated by commas; they must adjoin and have the same owners."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    land_use = forms.ChoiceField(label=_("Land use of the merged parcel"), choices=LAND_USES)
    field_order = ["parcels", "applicant", "represents", "land_use"]

    def clean_parcels(self) -> list[str]:
        numbers = [n for n in re.split(r"[\s,;]+", str(self.cleaned_data["parcels"])) if n]
        if len(numbers) < 2:
            raise ValidationError(_("Name at least two parcels to merge."), code="too_few")
        if len(numbers) > 50:
            raise ValidationError(_("At most 50 parcels are merged at once."), code="too_many")
        return numbers


class DischargeForm(LodgingForm):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    mortgage = forms.IntegerField(
        min_value=1,
        label=_("Mortgage number"),
        help_text=_("As the parcel's page lists it under its mortgages."),
        error_messages={
            "required": _("Enter the mortgage's number."),
            "invalid": _("Enter the mortgage's number, as the parcel's page lists it."),
            "min_value": _("Enter the mortgage's number, as the parcel's page lists it."),
        },
    )
    applicant = TextField(
        max_length=50,
        required=True,
        label=_("The lender who releases it"),
        help_text=_(
            "A business by its registration number (business:BN-2026-000001), an agency (agency:MSD) or a UIN."
        ),
    )
    represents = TextField(max_length=50, label=_("The lender represented (if any)"))

    def clean_applicant(self) -> PartyRef:
        return party_parse(str(self.cleaned_data["applicant"]))

    def clean_represents(self) -> PartyRef | None:
        text = str(self.cleaned_data["represents"])
        return party_parse(text) if text else None


class LeaseForm(_ByOwner):
    parcel = TextField(max_length=30, required=True, label=_("Parcel number"))
    lessee = TextField(
        max_length=50,
        required=True,
        label=_("Lessee"),
        help_text=_("A UIN, or business: or agency: and its number."),
    )
    ends_on = forms.DateField(
        label=_("Last day of the lease"),
        help_text=_("A date such as 2036-03-31."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the last day of the lease."),
            "invalid": _("Enter a real date, such as 2036-03-31."),
        },
    )
    description = TextField(
        max_length=300,
        label=_("Terms"),
        help_text=_("The rent and other terms, as the lease states them."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    field_order = ["parcel", "applicant", "represents", "lessee", "ends_on", "description"]

    def clean_lessee(self) -> PartyRef:
        return party_parse(str(self.cleaned_data["lessee"]))


class EasementForm(_ByOwner):
    parcel = TextField(max_length=30, required=True, label=_("Parcel burdened"))
    beneficiary = TextField(
        max_length=50,
        required=True,
        label=_("Who benefits"),
        help_text=_("A UIN, or business: or agency: and its number, such as agency:WASA for a water main."),
    )
    description = TextField(
        max_length=300,
        required=True,
        label=_("The right granted"),
        help_text=_("Such as: a way 3 m wide along the northern boundary."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ends_on = forms.DateField(
        required=False,
        label=_("Last day (if it ends)"),
        help_text=_("Leave empty for a permanent easement."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, such as 2036-03-31.")},
    )
    field_order = ["parcel", "applicant", "represents", "beneficiary", "description", "ends_on"]

    def clean_beneficiary(self) -> PartyRef:
        return party_parse(str(self.cleaned_data["beneficiary"]))


class DecisionForm(Form):
    action = forms.ChoiceField(
        choices=[("check", _("Checked")), ("register", _("Register")), ("reject", _("Reject"))],
        error_messages={"required": _("Choose what to do."), "invalid_choice": _("Choose what to do.")},
    )
    reason = TextField(max_length=500, label=_("Reason for rejecting, for the applicant"))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("action") == "reject" and not data.get("reason"):
            self.add_error("reason", ValidationError(_("Give the reason for rejecting."), code="required"))
        return data


class HeirsForm(Form):
    heirs = OwnersField(
        label=_("Heirs and their shares of the estate"),
        help_text=_("One a line, from the will or the court's order: a UIN and the share, such as 2345678901 1/2."),
    )
