"""The report form of the portal (works without script: a settlement and a street, or a point)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gov21.concerns.selectors import categories
from gov21.core.forms import Form, TextField
from gov21.core.geography import geography


def settlement_choices() -> list[tuple[str, Any]]:
    return [("", _("Choose a place"))] + [
        (p.name, [(f"{p.code}|{s.name}", s.name) for s in p.settlements]) for p in geography()
    ]


def settlement_point(value: str) -> tuple[float, float, str] | None:
    """The point and name of a settlement chosen as ``PARISH|Name``."""
    code, _sep, name = value.partition("|")
    for parish in geography():
        if parish.code == code:
            for settlement in parish.settlements:
                if settlement.name == name:
                    return settlement.lat, settlement.lon, settlement.name
    return None


class ReportForm(Form):
    service_code = forms.ChoiceField(label=_("What is the problem?"), choices=())
    settlement = forms.ChoiceField(
        label=_("Where is it?"),
        required=False,
        choices=(),
        help_text=_("The town or village; or give the position below."),
    )
    street = TextField(label=_("Street or landmark"), max_length=200, required=False)
    lat = forms.FloatField(label=_("Latitude (optional)"), required=False, min_value=-90, max_value=90)
    long = forms.FloatField(label=_("Longitude (optional)"), required=False, min_value=-180, max_value=180)
    description = TextField(
        label=_("Describe the problem"), max_length=4000, required=True, widget=forms.Textarea(attrs={"rows": 5})
    )
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        max_length=254,
        help_text=_("Only the agency that handles the problem sees it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_code"].choices = [("", _("Choose a category"))] + [  # type: ignore[attr-defined]
            (c.code, gettext(c.name)) for c in categories()
        ]
        self.fields["settlement"].choices = settlement_choices()  # type: ignore[attr-defined]
        # Each service's list attributes (a pothole's size), asked of whoever chose that service.
        for category in categories():
            for attribute in category.attributes:
                if attribute.get("values"):
                    self.fields[f"attribute_{category.code}_{attribute['code']}"] = forms.ChoiceField(
                        label=f"{gettext(category.name)}: {gettext(attribute.get('description') or attribute['code'])}",
                        required=False,
                        choices=[("", _("Choose"))] + [(v["key"], gettext(v["name"])) for v in attribute["values"]],
                    )

    def attributes(self) -> dict[str, Any]:
        """The attributes given for the chosen service, by their codes."""
        prefix = f"attribute_{self.cleaned_data.get('service_code', '')}_"
        return {
            name.removeprefix(prefix): value
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix) and value
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_point = data.get("lat") is not None and data.get("long") is not None
        if not has_point and not data.get("settlement"):
            raise forms.ValidationError(
                _("Choose the place, or give its latitude and longitude."), code="missing_location"
            )
        return data


class FilterForm(Form):
    service_code = forms.ChoiceField(label=_("Category"), required=False, choices=())
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), ("open", _("Open")), ("closed", _("Closed"))]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_code"].choices = [("", _("Any"))] + [  # type: ignore[attr-defined]
            (c.code, gettext(c.name)) for c in categories()
        ]


class ActForm(Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Unchanged")), ("open", _("Open")), ("closed", _("Closed"))],
    )
    public = TextField(
        label=_("Public update"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    internal = TextField(
        label=_("Internal note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(Form):
    service_code = forms.ChoiceField(label=_("Move to the service"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_code"].choices = [(c.code, gettext(c.name)) for c in categories()]  # type: ignore[attr-defined]


class MergeForm(Form):
    into = forms.IntegerField(label=_("Merge into report number"), min_value=1, max_value=2**62)


class WhichForm(Form):
    """Which of the report page's forms was sent."""

    form = forms.ChoiceField(
        choices=[("act", "act"), ("reassign", "reassign"), ("merge", "merge"), ("contact", "contact")]
    )
