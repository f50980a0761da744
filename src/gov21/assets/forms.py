"""The office's forms. They read what a person typed; the services decide what may be stored."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gov21.assets.models import (
    AssetKind,
    Condition,
    Criticality,
    DamageLevel,
    EventKind,
    ResidentsPurpose,
    RoadClass,
    RoadSurface,
)
from gov21.core.forms import Form, TextField
from gov21.core.geography import parishes

# A GeoJSON text pasted into a form: an asset's outline, or a disaster's area.
GEOJSON_MAX_CHARACTERS = 5 * 1024 * 1024


def _choices(options: Any, *, blank: str | Promise | None = None) -> list[tuple[str, str | Promise]]:
    """The choices of a TextChoices, labels left lazy so each page shows them in its reader's language."""
    listed: list[tuple[str, str | Promise]] = [(str(value), label) for value, label in options]
    return [("", blank), *listed] if blank is not None else listed


def _parishes(blank: str | Promise) -> list[tuple[str, str | Promise]]:
    return [("", blank), *((code, f"{name} ({code})") for code, name in parishes())]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Any number of files (none included); each is checked as a photograph by the service."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False, widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}), **kwargs
        )

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(item, initial) for item in files]


class AssetFilterForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_choices(AssetKind.choices, blank=_("Any kind")))
    parish = forms.ChoiceField(label=_("Parish"), required=False, choices=_parishes(_("Any parish")))
    agency = TextField(label=_("Owning agency"), max_length=40)
    condition = forms.ChoiceField(
        label=_("Condition"), required=False, choices=_choices(Condition.choices, blank=_("Any condition"))
    )


class AssetForm(Form):
    code = TextField(
        label=_("Code"), max_length=40, required=True, help_text=_("The asset's number, such as SCH-0012.")
    )
    name = TextField(label=_("Name"), max_length=200, required=True)
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices(AssetKind.choices))
    agency = TextField(
        label=_("Owning agency"),
        max_length=40,
        required=True,
        help_text=_("Its member code on the exchange, such as MOE."),
    )
    condition = forms.ChoiceField(label=_("Condition"), choices=_choices(Condition.choices))
    replacement_value = TextField(
        label=_("Replacement value"),
        max_length=20,
        required=True,
        help_text=_("In the currency below, such as 1250000.00."),
    )
    currency = TextField(label=_("Currency"), max_length=3, required=True, initial="XCD")
    criticality = forms.ChoiceField(label=_("Criticality"), choices=_choices(Criticality.choices))
    capacity = TextField(
        label=_("Capacity"), max_length=9, help_text=_("Pupils, beds or shelter places; leave empty for other kinds.")
    )
    road_class = forms.ChoiceField(
        label=_("Road class"), required=False, choices=_choices(RoadClass.choices, blank=_("Not a road"))
    )
    road_surface = forms.ChoiceField(
        label=_("Road surface"), required=False, choices=_choices(RoadSurface.choices, blank=_("Not a road"))
    )
    geometry = TextField(
        label=_("Geometry (GeoJSON)"),
        max_length=GEOJSON_MAX_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "A Point, LineString or Polygon, positions as [longitude, latitude]:"
            ' {"type": "Point", "coordinates": [-63.12, 14.24]}'
        ),
    )
    geometry_file = forms.FileField(label=_("Or a GeoJSON file"), required=False)

    def clean_replacement_value(self) -> int:
        text = str(self.cleaned_data["replacement_value"]).replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(_("Write the value as a number, such as 1250000.00."), code="invalid_value") from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(
                _("Write the value as a positive amount with at most two decimals."), code="invalid_value"
            )
        return int(amount * 100)

    def clean_capacity(self) -> int | None:
        text = str(self.cleaned_data["capacity"])
        if not text:
            return None
        if not text.isascii() or not text.isdigit():
            raise ValidationError(_("Write the capacity as a whole number."), code="invalid_capacity")
        return int(text)


class AssetEditForm(AssetForm):
    """An asset's facts changed: every field but its code, and why it changes (kept with the version)."""

    reason = TextField(
        label=_("Why it changes"),
        max_length=300,
        required=True,
        help_text=_("Kept with the new version, such as: roof rebuilt after the inspection of 2026-05-04."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["code"]


class InspectionForm(Form):
    inspected_on = forms.DateField(label=_("Date of inspection"), widget=forms.DateInput(attrs={"type": "date"}))
    condition = forms.ChoiceField(label=_("Condition found"), choices=_choices(Condition.choices))
    notes = TextField(label=_("Notes"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class EventForm(Form):
    name = TextField(label=_("Name"), max_length=200, required=True, help_text=_("Such as Hurricane Ada."))
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices(EventKind.choices))
    occurred_on = forms.DateField(label=_("Day it struck"), widget=forms.DateInput(attrs={"type": "date"}))
    area = TextField(
        label=_("Area struck (GeoJSON)"),
        max_length=GEOJSON_MAX_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "A Polygon or MultiPolygon of the flood extent or wind field, or a hurricane's track as a LineString"
            " with a buffer radius."
        ),
    )
    area_file = forms.FileField(label=_("Or a GeoJSON file"), required=False)
    buffer_km = TextField(
        label=_("Buffer radius (km)"), max_length=10, help_text=_("For a track: how far from it the damage reaches.")
    )

    def clean_buffer_km(self) -> float | None:
        text = str(self.cleaned_data["buffer_km"]).replace(",", ".")
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise ValidationError(
                _("Write the radius as a number of kilometres, such as 50."), code="invalid_buffer"
            ) from None


class AssessmentForm(Form):
    asset = TextField(label=_("Asset code"), max_length=40, help_text=_("For a public asset."))
    parcel_number = TextField(
        label=_("Or land parcel number"), max_length=60, help_text=_("For a parcel of the land register.")
    )
    parish = forms.ChoiceField(label=_("Parish of the parcel"), required=False, choices=_parishes(_("Not a parcel")))
    level = forms.ChoiceField(label=_("Damage"), choices=_choices(DamageLevel.choices))
    notes = TextField(label=_("Notes"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photographs"), help_text=_("JPEG, PNG or WebP, up to 10 MB each."))


class ResidentsPurposeForm(Form):
    """Why an officer needs the residents of a disaster's area by name, and which of its settlements:
    ``places`` lists them as (value, label), the whole area first. Which place may be asked for is the
    service's to decide, so a settlement outside the area is refused in its words."""

    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=_choices(ResidentsPurpose.choices, blank=_("Choose a purpose")),
        error_messages={"required": _("Choose the purpose for which you need the names.")},
        help_text=_("The civil registry names residents only for one of these purposes."),
    )
    reason = TextField(
        label=_("Why you need the names"),
        max_length=250,
        required=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say in a sentence why you need these names: it is shown to each person named.")},
        help_text=_(
            "Such as: checking on the elderly of Port Clement after the flood. Each person named sees it, with"
            " your name, among the uses of their data."
        ),
    )
    place = TextField(label=_("Where"), max_length=200, widget=forms.Select)

    def __init__(self, *args: Any, places: list[tuple[str, str | Promise]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].widget.choices = places


class ResidentsPageForm(Form):
    """Which page of the residents named to show."""

    page = forms.IntegerField(
        label=_("Page"),
        min_value=1,
        max_value=100_000,
        required=False,
        error_messages={
            "invalid": _("The page is a whole number, such as 2."),
            "min_value": _("The first page is page 1."),
            "max_value": _("There is no such page of these residents. Go back to the first page."),
        },
    )
